"""The API reference page, drawn by Swagger UI from the vendored copy under /static (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sscard.httpkit.units import UnitOfWorkRoute

DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"
VENDOR = "/static/vendor/swagger-ui"

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sscard API 文档</title>
<link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
<link rel="stylesheet" href="/static/css/api-docs.css">
<link rel="icon" href="{VENDOR}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{OPENAPI_PATH}"></div>
<script src="{VENDOR}/swagger-ui-bundle.js"></script>
<script src="/static/js/api_docs.js"></script>
</body>
</html>
"""
"""The page in Chinese (lang) like every other; Swagger UI is started by api_docs.js, with
colours in api-docs.css that keep its text readable (4.5:1)."""


@router.get(DOCS_PATH, response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    """Swagger UI over the platform's OpenAPI description."""
    return HTMLResponse(PAGE)
