"""The one way out: every request Tidings makes to a URL a user gave goes through here.

`addresses` decides which URLs and addresses may be reached (https only; no private, loopback,
link-local, multicast, reserved or unspecified address unless TIDINGS_ALLOW_PRIVATE_URLS);
`client.OutboundClient` resolves once, checks, connects to the address it checked (TLS still
verified for the name), follows no redirect it has not checked, and bounds time and size.
"""
