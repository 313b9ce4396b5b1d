"""The HTTP app assembly: the top of the import graph.

``factory.create_app()`` builds the one ASGI application: every component's router under
``/api/v1`` (``routers``), the pages (``sscard.web``), health and metrics (``health``), the
platform middleware (``middleware``: request id, body limits, metrics) and the gate that
authenticates requests (``gate``, installed into ``sscard.httpkit``). Nothing but the CLI
and tests imports this package.
"""
