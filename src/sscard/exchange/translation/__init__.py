"""Code translation (数据翻译): code sets, external systems, their tables, translating.

Design overview
===============

A *code set* (gender, ethnicity, document type ...) lists our internal codes and their
Chinese names. An *external system* (the province card system, the medical insurance
system ...) may carry a table for a set: the system's *field name* for it (``AAC004``,
``SEX``) and, for each of our codes, the system's code. A table is one to one: each of our
codes has at most one external code and each external code belongs to exactly one of our
codes, so it reads both ways. A system gives each set its own field name.

A :class:`Translator` holds every table of one system as dictionaries, built once from the
database; translating a value is a dictionary lookup, so a file of a million rows is
translated without a query per value. It carries the *revision* of the system's tables it
was built from; the service compares it with the stored revision to know when to rebuild.

Import files are checked here, against the current tables, before anything is written:
:func:`plan_code_sets` and :func:`plan_mappings` either return a plan with no rejected
rows, which the service then applies, or name every bad row with its line number.

Modules: :mod:`.models` (the tables), :mod:`.repository` (every query), :mod:`.service`
(the use cases other components call: read it first), :mod:`.schemas`; pure logic in
:mod:`.rules` (what a key, code or name may be), :mod:`.translator` (translating with the
tables in memory), :mod:`.csvfiles` (the CSV forms) and :mod:`.plans` (checking an import).
"""
