"""The security log: log-ins, log-outs, password changes, failures and refused requests, in UTC,
without secrets.

Records go to the ``sovready.security`` logger (stderr under ``sovready serve``, next to
the server's access log). Passwords, tokens, cookies and answers are never logged: a record names
the event, the user id or the email typed, the client address and the path, with the secret
of an invitation or join link redacted.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote

from flask import Flask, g, request

log = logging.getLogger("sovready.security")
REFUSED = {400, 403, 404, 410, 429}
# The links that carry a secret in their path: workspace and portfolio invitations, workshop join
# codes. Whoever reads a log must not be able to use a pending one, and a refusal (an expired
# session, a wrong code) is just when one is still pending.
SECRET_IN_PATH = re.compile(r"(/(?:invite|portfolio-invite|join)/)[^/?#\"\s]+")
# What a logged path keeps as it is; anything else (a line feed, a space, a quote) is written
# percent-encoded, as a client sends it: decoded, a %0A began a line of the visitor's choosing.
PATH_SAFE = "/;:@&=+$,~!*'()"


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime  # timestamps in UTC whatever the server's time zone


def event(name: str, **fields) -> None:
    """One security event with the request's address and path."""
    details = " ".join(f"{key}={value!r}" for key, value in fields.items())
    log.info("%s address=%s path=%s %s", name, request.remote_addr, logged_path(request.path), details)


def logged_path(path: str) -> str:
    """A decoded path as a log line shows it: encoded again where it must be, its secret redacted."""
    return redacted(quote(path, safe=PATH_SAFE))


def redacted(url: str) -> str:
    """``url`` with the secret of an invitation or join link replaced: what this log and the
    access log (``server.py``) write."""
    return SECRET_IN_PATH.sub(r"\1[redacted]", url)


def _refusals(response):
    if response.status_code in REFUSED and request.endpoint != "static":
        user = getattr(g, "user", None)
        event("refused", status=response.status_code, user=user["id"] if user else None)
    return response


def init_app(app: Flask) -> None:
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_UTCFormatter("%(asctime)sZ %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    app.after_request(_refusals)
