"""Bulk import of persons from CSV and XLSX files: checked, sealed in parallel, resumable.

Read ``job.py`` first (the design overview and the run's unit of work), then:

- ``tabular.py``: files read as a stream (encoding detected, digest, header matched);
- ``rows.py``: the columns of an import file and how one row becomes a checked record (pure);
- ``workers.py``: worker processes that read, check and seal batches of rows;
- ``rejects.py``: the reject file, written before each chunk commits;
- ``service.py``: opening, finding and listing jobs, and the state changes a run commits;
- ``repository.py``: every query of the import job table.
"""
