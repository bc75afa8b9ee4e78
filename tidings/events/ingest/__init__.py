"""Event ingestion: `create_event`, `bulk_create_events`, their `/client` twins and legacy
Track/Identify, from the request to the event store.

A request is checked completely and normalised into an `envelope` (`accept`; the bodies as
`schemas` and, in their plain form, `structs` read them), written to the durable inbox with
other requests in one commit (`inbox`) and answered 202; the lean ASGI path (`fastpath`)
answers the JSON operations as `routes` do, both through each operation's accept function
(`intakes`). A job (`jobs`, `events.process`) then applies the inbox in batches (`processor`;
legacy payloads are mapped there by `legacy`) through the event store
(`tidings.events.store`), and whatever cannot be applied is kept as a dead letter
(`dead_letters`, in `tables` with the inbox), to be listed and retried.
"""
