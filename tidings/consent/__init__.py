"""Consent and suppression: subscriptions per channel, suppressions, and may_receive()."""
