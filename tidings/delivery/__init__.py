"""Delivery: the send ledger (one row per intended delivery), its state machine and janitor.

Providers (SMTP, SMS, push), tracking and the transactional send endpoint come later; the
`Provider` protocol in `provider.py` is what they will implement.
"""
