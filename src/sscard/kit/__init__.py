"""Shared kit: who is acting (context), domain events, the outbox, replay guards, masking."""
