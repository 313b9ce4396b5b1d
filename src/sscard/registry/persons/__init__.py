"""Persons: registering, finding, changing, revealing; enrolments, deaths and moves.

Read ``service.py`` first. A person's personal fields are sealed by
:mod:`sscard.registry.persons.sealing`; ``repository.py`` holds every query of the person and
enrolment tables, one at a time or in bulk (used by :mod:`sscard.registry.bulk`).
Other components find persons here (``find_person``, ``get_person_by_id``,
``person_display``, ``holder_brief``) and hear of deaths through ``events.PersonDeceased``.
"""
