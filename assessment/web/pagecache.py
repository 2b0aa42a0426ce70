"""Whole pages from the cache, with the request's own CSRF token put in.

With its parts cached, a journey page still cost twice the server's trivial route in its layout
alone: the site header, the progress bar, a dozen template blocks. A page the viewer opens again
unchanged is kept whole, under what it is made from: its URL (path and query), the mount path,
the viewer (id, name, whether an administrator) and the key its view names, such as the
assessment's content token, the workspace's name and the viewer's role there. It is rendered with
a stand-in for the CSRF token, which each request replaces with its session's own.

Pages with a flashed message (shown once) and anything but GET are rendered as usual.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable

from flask import g, request, session

from .contentcache import cache
from .security import TOKEN_FIELD, csrf_token

ENTRIES = 256  # pages of 30 to 60 KB: up to some 15 MB per worker process
TOKEN_STAND_IN = secrets.token_urlsafe(24)  # per process, so no stored text can foresee it


def cached_page(key: Hashable, render: Callable[[], str]) -> str | bytes:
    """``render()``'s page, from the cache when one with the same ``key`` was made for this viewer.

    The cache keeps the page encoded: encoding a 50 KB page that is not all ASCII took 40 µs of
    each request, a tenth of a cached results page's time."""
    if request.method != "GET" or "_flashes" in session:
        return render()
    token = csrf_token()
    user = g.user
    page_key = (request.script_root, request.full_path, user["id"], user["name"], user["is_admin"], key)
    return token.encode().join(cache("pages", ENTRIES).get_or_make(page_key, lambda: _around_stand_in(render)))


def _around_stand_in(render: Callable[[], str]) -> tuple[bytes, ...]:
    """The page in pieces around the stand-in: joining them with the token took a tenth of the
    time of replacing it in a 50 KB page (whose other characters make str.replace slow)."""
    token = g.get(TOKEN_FIELD)
    setattr(g, TOKEN_FIELD, TOKEN_STAND_IN)
    try:
        return tuple(piece.encode() for piece in render().split(TOKEN_STAND_IN))
    finally:
        setattr(g, TOKEN_FIELD, token)
