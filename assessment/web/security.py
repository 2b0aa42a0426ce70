"""CSRF protection on every POST and the security headers of every response."""

import time

from flask import Flask, abort, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf

from .contentcache import cache

csrf = CSRFProtect()
TOKEN_FIELD = "csrf_token"  # noqa: S105 (a name: Flask-WTF's field and session key)
# Signing a CSRF token (itsdangerous: a key derivation, an HMAC, base64) took a quarter of a
# dimension page. A signed token is valid for the session's whole lifetime (WTF_CSRF_TIME_LIMIT,
# hours), so pages reuse one for a minute instead of signing it anew on every request.
TOKEN_REUSE = 60  # seconds

# Parsing 10,000 fields takes 40 ms, about what any 1 MiB body costs, and the largest form a
# rubric makes (a dimension page: four fields a question) would need 2,500 questions to reach it.
MAX_FORM_FIELDS = 10_000

# No inline script or style anywhere: the pages and their SVG charts use app.css and app.js only.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _headers(response):
    response.headers.update(HEADERS)
    if current_app.config["HTTPS"]:  # only over HTTPS: a browser must never pin plain HTTP
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    # Pages show answers and account details: keep them out of shared and back-button caches.
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def signing_period() -> int:
    """Which minute it is, for reusing tokens."""
    return int(time.time() // TOKEN_REUSE)


def csrf_token() -> str:
    """The session's signed CSRF token, as Flask-WTF's ``generate_csrf`` gives it, signed at most
    a minute ago. The request keeps it, so the forms on the page carry the same one."""
    if TOKEN_FIELD not in g:
        raw = session.get(TOKEN_FIELD)
        if raw is None:  # a new session's first token
            return generate_csrf()
        key = (raw, signing_period())
        setattr(g, TOKEN_FIELD, cache("csrf tokens", 1024).get_or_make(key, generate_csrf))
    return g.get(TOKEN_FIELD)


def _refuse_crowded_forms() -> None:
    """413 for a URL-encoded form of more than MAX_FORM_FIELDS fields, before anything parses it.

    Werkzeug counts the parts of a multipart form only (MAX_FORM_PARTS): 340,000 empty fields fit
    in the 1 MiB request limit and took 1.7 s of a worker's CPU to parse, for anyone, CSRF token
    or not. Counting the separators of the body (which the form is then parsed from) takes a
    millisecond."""
    if request.mimetype == "application/x-www-form-urlencoded":
        if request.get_data(cache=True).count(b"&") >= MAX_FORM_FIELDS:
            abort(413)


def _reuse_token_in_forms() -> None:
    """A form takes its token from the request (``g``) where it finds one, and signs one anew
    otherwise: 1.5% of an answer submission, for a token its redirect never shows. By now
    CSRFProtect has checked the POST's token, so the session has one."""
    if request.method == "POST" and TOKEN_FIELD in session:
        csrf_token()


def init_app(app: Flask) -> None:
    app.before_request(_refuse_crowded_forms)  # before CSRFProtect reads the form for its token
    csrf.init_app(app)  # first: its check of a POST's token runs before _reuse_token_in_forms
    app.before_request(_reuse_token_in_forms)
    # In place of Flask-WTF's generate_csrf, which it offers both ways: as a global (for imported
    # macros) and from a context processor (which, added later, this one overrides).
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
    app.after_request(_headers)
