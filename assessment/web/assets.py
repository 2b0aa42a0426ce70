"""The static files under addresses that name their content, kept by browsers for a year.

Every page links app.css and app.js. Served as Flask serves them (``no-cache``, with an ETag), a
browser asks for both again on each page it opens: two more requests to the app per page view,
and a page measured before its stylesheet returns is laid out unstyled. With the content's digest
in the address (``app.css?v=…``) the file can be kept unasked until it changes, when its address
changes with it; an address with another digest, or none, is served as before.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

YEAR = 365 * 24 * 3600


def versions(folder: Path) -> dict[str, str]:
    """Each file under ``folder``, by its path in a URL, and a short digest of its content."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            for path in sorted(folder.rglob("*")) if path.is_file()}


def init_app(app: Flask) -> None:
    if app.debug:  # files edited while the development server runs would keep their old digest
        return
    known = versions(Path(app.static_folder))

    @app.url_defaults
    def _with_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in known:
            values.setdefault("v", known[values["filename"]])

    @app.after_request
    def _kept_a_year(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        version = known.get((request.view_args or {}).get("filename"))
        if version and request.args.get("v") == version:
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
