"""Operations: health, Prometheus metrics, structured logs, and the HTTP middleware."""
