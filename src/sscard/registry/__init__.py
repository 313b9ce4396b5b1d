"""The cardholder base registry (持卡人基础信息库): persons, employers, communities, photos.

Sub-packages, each with the standard files (models, schemas, repository, service, errors)
it needs, in dependency order:

- ``units``: employers and communities;
- ``persons``: persons, their documents and enrolments, deaths and moves (start here:
  ``persons/service.py``);
- ``photos``: card photos;
- ``bulk``: persons many at once (imports, demo data, card batches);
- ``imports``: bulk import from CSV and XLSX files, resumable.

Pure rules at the component level: ``identifiers`` (GB 11643 ID numbers, GB 32100 credit
codes), ``names``, ``regions`` (GB/T 2260), ``codes`` (national code tables), ``records``
(one person's record and its checks). ``sealing`` turns a record into encrypted columns;
``fakes`` generates demo data; ``wiring`` joins start-up. The routes are in the ``api``
package, one module per sub-package (``api/persons.py`` ...), where the platform allows
FastAPI.
"""
