"""Shared kit: who is acting (context), domain events, the outbox, replay guards, masking.

Components build on these; the kit imports no component.

- ``context``: the actor and purpose of the current unit of work;
- ``access``: personal-data reads and changes collected on the session for the audit log;
- ``events``: the in-process bus for reactions inside one unit of work;
- ``outbox`` (package): deliveries to external systems after commit, and the worker;
- ``guard`` (package): single-use claims and rate limits over Redis or the database;
- ``masking``, ``logs``: what may be shown or logged; ``errors``: the kit's errors.
"""
