"""/api/v1/docs: Swagger UI from files installed with the package (fastapi-swagger), no CDN."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from director_jobs.errors import NotFound

router = APIRouter(include_in_schema=False)

# The only files served from the Swagger UI folder, with their media types.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """The interactive API documentation."""
    base = request.scope.get("root_path", "") + "/api/v1"
    return get_swagger_ui_html(
        openapi_url=f"{base}/openapi.json",
        title="director-jobs API",
        swagger_js_url=f"{base}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{base}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{base}/docs/assets/favicon-32x32.png",
    )


@router.get("/docs/assets/{asset}")
def asset(asset: str) -> Response:
    """One of Swagger UI's files (only those listed: no path reaches elsewhere)."""
    media_type = _ASSETS.get(asset)
    if media_type is None:
        raise NotFound(f"asset: no documentation file named {asset!r}")
    content = files("fastapi_swagger").joinpath("resources", asset).read_bytes()
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(content, media_type=media_type, headers=headers)
