"""Online authorisation (线上授权): OAuth 2.0 authorisation code with PKCE for channels,
partners and portals. ``service.py`` holds the use cases (clients, consent, tokens,
userinfo); ``rules.py`` the pure rules (scopes, PKCE, redirect URIs); ``errors.py`` the
refusals by their RFC 6749 names."""
