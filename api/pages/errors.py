"""A page's own refusal: shown as a page (the JSON API's HTTPException stays JSON)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def page_error(request: Request, err: Exception) -> Response:
    # Imported here: render and viewer raise PageError, so they import this module first.
    from api.pages.render import render
    from api.pages.viewer import find_viewer

    assert isinstance(err, PageError)
    try:
        viewer = find_viewer(request) if err.status != 503 else None
    except PageError:
        viewer = None
    return render(request, "error.html", {"status": err.status, "message": err.message}, viewer, err.status)


async def sign_in_required(request: Request, err: Exception) -> Response:
    from api.pages.viewer import SignInRequired, sign_in_redirect

    assert isinstance(err, SignInRequired)
    return RedirectResponse(sign_in_redirect(err.next_path), status_code=303)
