"""The API's documentation, offline: Swagger UI at /docs and ReDoc at /redoc, their scripts and styles
served by Baton from the pinned fastapi-offline package (never a CDN), started by our own script files
so the pages need no inline script."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.pages.render import render_fragment

BUNDLE = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = "/docs-assets"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(render_fragment("docs.html", {"title": request.app.title, "assets": ASSETS}))


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return HTMLResponse(render_fragment("redoc.html", {"title": request.app.title, "assets": ASSETS}))


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=BUNDLE), name="docs-assets")
    app.include_router(router)
