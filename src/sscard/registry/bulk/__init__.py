"""Persons many at once: the bulk upsert behind imports and demo data, and look-ups by the
batch for card batches (``person_ids``, ``stored_records``, ``person_statuses``).

Only ``service.py``: its statements are the persons repository's bulk ones.
"""
