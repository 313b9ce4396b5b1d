"""The low HTTP kit that component routes and pages import.

- ``deps``: the request's unit of work (``DbSession``), the actor (``CurrentActor``),
  ``require(permission)``, the stated purpose of a read, bearer and CSRF helpers.
- ``gate``: the port through which requests are authenticated; the app assembly
  (``sscard.app``) installs the platform's gate at start-up, so this kit imports no
  component.
- ``errors``: one error body for everything (``{"error", "detail", "fields"}``) and the
  handlers that produce it.

The app itself (``create_app``, middleware, the list of routers) is assembled above the
components in ``sscard.app``, which nothing but the CLI and tests import.
"""
