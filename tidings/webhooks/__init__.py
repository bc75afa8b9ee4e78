"""Outbound webhooks: Klaviyo's system webhooks (endpoints subscribed to metric topics), fed by
the events written, batched, signed and retried (see docs/ARCHITECTURE.md, Webhooks)."""
