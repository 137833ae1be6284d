"""The API reference at /schema: Redoc, served by the app itself from the bundle vendored in
api/static/redoc (no CDN: the page works on a machine without internet access, and its
content security policy lets it load nothing from elsewhere)."""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.types import Message, Scope

REDOC_VERSION = "2.5.4"
REDOC = Path(__file__).parent / "static" / "redoc" / "redoc.standalone.js"
ASSET_PATH = "/redoc.standalone.js"
# Redoc builds its search index in a worker made from a blob; its styles are inline.
POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:;"
    " style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'"
)
PAGES = ("/schema", "/schema/", "/schema/redoc")
OPTIONS = {
    "expandResponses": "200,201",
    "jsonSampleExpandLevel": 3,
    "pathInMiddlePanel": True,
    "sortTagsAlphabetically": False,
    "hideLoading": False,
}


@cache
def redoc_bundle() -> bytes:
    return REDOC.read_bytes()


@get(ASSET_PATH, media_type="application/javascript", sync_to_thread=False, include_in_schema=False)
def redoc_asset() -> Response[bytes]:
    return Response(
        redoc_bundle(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400, stale-while-revalidate=86400, immutable"},
    )


class OfflineRedoc(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path=["/", "/redoc"], favicon="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        document = self.get_openapi_json_route(request)
        spec_url, link = json.dumps(document), html.escape(document)
        script = html.escape(document.rsplit("/", 1)[0] + ASSET_PATH)
        return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title} API reference</title>
    {self.style}
  </head>
  <body>
    <div id="redoc"></div>
    <noscript>The API reference needs JavaScript; the document is at <a href="{link}">{link}</a>.
    </noscript>
    <script src="{script}"></script>
    <script>Redoc.init({spec_url}, {json.dumps(OPTIONS)}, document.getElementById("redoc"))</script>
  </body>
</html>""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(redoc_asset)


async def reference_policy(message: Message, scope: Scope) -> None:
    """before_send hook: the reference page may load only what this server serves."""
    if message["type"] == "http.response.start" and scope.get("path") in PAGES:
        headers = list(message.get("headers", []))
        headers.append((b"content-security-policy", POLICY.encode()))
        message["headers"] = headers
