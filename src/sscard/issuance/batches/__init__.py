"""Batch card making (批量制卡): export, send, fetch, import the result, handle failures.

Read ``service`` first (batches and failures as clerks see them), then the worker modules
``export``, ``province`` (send and fetch) and ``result_import``, each of which commits chunk
by chunk in units of work of its own. Tables in ``models``, queries in ``repository``.

Design overview
===============

A batch (``issuance_batch``) moves through::

    exporting ─> exported ─send─> sent ─fetch─> making ─fetch─> result_ready ─> importing
                                                                                   │
                                                                       result_imported

**Failures** (制卡失败) are resolved with a note, or resubmitted: the card goes back to
``applied`` with the same card number, for the next batch.
"""
