"""The durable job queue: a table in the same database, claimed by workers."""
