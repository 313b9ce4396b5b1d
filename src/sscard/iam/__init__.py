"""Management middle platform (管理中台): institutions, channels, operators, roles, tokens.

Read ``service`` first: what other components call (:func:`~sscard.iam.service.authorize`,
:func:`~sscard.iam.service.region_scope`, :func:`~sscard.iam.service.resolve_token`,
institutions, channels, roles). Then the two sub-packages:

- ``operators``: operator accounts (create, update, passwords, the first admin);
- ``login``: authentication with lockout, issuing and revoking tokens.

``models``, ``repository`` (every query), ``schemas`` and ``errors`` are shared by all
three; ``catalog`` (institution and channel types, region prefixes), ``passwords`` and
``tokens`` are pure helpers.
"""
