"""URLs for templates, built once per process rather than on every use.

Building a URL through the routing map (werkzeug's ``MapAdapter.build``) costs some 25 µs, and a
page links to its steps, exports and account pages twenty times over: on the results page that
was a sixth of its time. A relative URL depends only on the endpoint, its values and the path
the app is mounted at, so it is kept under those.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request

from .contentcache import cache

ENTRIES = 4096  # a few dozen URLs per assessment: the recently used ones


def url_for(endpoint: str, **values) -> str:
    """Flask's ``url_for``, from the cache when the URL is relative and its values hashable."""
    if not has_request_context() or endpoint[:1] == "." or any(name[:1] == "_" for name in values):
        return current_app.url_for(endpoint, **values)
    # Each value's type too: 1 and True are equal keys but "1" and "True" in a URL.
    key = (request.script_root, endpoint, *((name, type(value), value) for name, value in sorted(values.items())))
    try:
        hash(key)
    except TypeError:  # a list of values for a query string, say
        return current_app.url_for(endpoint, **values)
    return cache("urls", ENTRIES).get_or_make(key, lambda: current_app.url_for(endpoint, **values))


def init_app(app) -> None:
    app.jinja_env.globals["url_for"] = url_for
