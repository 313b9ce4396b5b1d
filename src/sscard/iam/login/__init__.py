"""Login and tokens: password checks with lockout, bearer tokens and web sessions.

Read ``service``. Tokens are turned back into an actor by
:func:`sscard.iam.service.resolve_token`, which every request goes through.
"""
