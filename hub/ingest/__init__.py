"""Ingest: from the broker to the store. Messages are validated, batched, stored once
each and acknowledged; what cannot be stored is dead-lettered with its reason."""
