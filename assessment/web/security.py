"""CSRF protection on every POST and the security headers of every response."""

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

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


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(_headers)
