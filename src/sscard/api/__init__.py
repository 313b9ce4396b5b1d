"""The HTTP app (FastAPI): routers of every component under /api/v1, errors, middleware."""
