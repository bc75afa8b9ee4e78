"""Database kit: engine, sessions, base model, dialect helpers, migrations. Imports no domain."""
