"""The electronic social security card (电子社保卡).

What it owns: the e-card signed for each physical card, its copies in channel apps,
resident sessions, usage events, the revocation list offline terminals follow, and the
online services built on it. Read ``service.py`` first (signing, copies, how copies follow
the card, sessions and the e-card PIN), then the sub-package you need:

- ``codes/``: dynamic QR codes: formats (``qr.py``, pure), the check (``verifier.py``,
  pure), issuing and verifying at a scenario (``service.py``).
- ``oauth/``: online authorisation (OAuth 2.0 with PKCE) for partners and portals.
- ``scanlogin/``: scan login for government portals.
- ``family/``: family (proxy) service: a guardian shows a minor's or an elder's e-card.

At the component level also: ``credentials.py`` (credential display, 亮证), ``online.py``
(my insurance, who accessed my data), ``realperson.py`` (real-person checks),
``caches.py`` (the bounded hot-path caches), ``repository.py`` (every query of the core
tables), ``errors.py``, ``wiring.py`` (event subscriptions) and ``api/`` (the routes).
"""
