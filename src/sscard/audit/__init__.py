"""Audit log (审计日志): append-only, SM3 hash-chained record of every access and change.

Read ``service`` first: accesses are collected on the session by :mod:`sscard.kit.access`
and written when the session commits (:func:`~sscard.audit.service.register_subscribers`);
``search``, ``subject_history`` and ``verify_chain`` read them back. ``chain`` holds the
pure hashing rules, ``repository`` every query, ``schemas`` the outputs and the search
filter.
"""
