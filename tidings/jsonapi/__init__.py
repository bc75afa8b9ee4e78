"""JSON:API kit shared by every domain: documents, errors, filters, cursors, query params."""
