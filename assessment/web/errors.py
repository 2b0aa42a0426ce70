"""One error path: every HTTP error, and any unexpected exception, renders error.html."""

import sqlite3
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request, url_for
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from .. import storage
from .auth import PUBLIC, SESSION_ENDED, is_path_on_this_site, page_address, user_for_error_page
from .forms import file_size, secret_field_names
from .security_log import logged_path

# What to tell a person, beyond the status line, for the errors they can do something about.
ADVICE = {
    400: "The form could not be accepted. If it sat open for a long time, reload the page and try again.",
    403: "Your role in this workspace does not allow this. Ask a workspace owner if you need it.",
    404: "There is nothing here, or you do not have access to it.",
    405: "This address does not take that kind of request. Go back and use the page's own links and buttons.",
    410: "This workshop is closed: answers are no longer accepted.",
    429: "Too many failed attempts (wrong join codes or passwords). Wait ten minutes, then try again.",
    413: "The upload is larger than this server accepts ({limit}), or the form has more fields than this server "
         "accepts. Try a smaller file.",
}
UNTRUSTED_HOST = ("This server does not answer to the address the request named. "
                  "Use the address your administrator gave you.")
# Workshop participants have no account: their way on is the join page, not the log-in.
PARTICIPANT_ADVICE = {
    429: "Too many wrong join codes from this network. Check the code with the facilitator, "
         "wait ten minutes, then enter it again.",
}


RETRY_AFTER_SECONDS = 10


class Unavailable(ServiceUnavailable):
    """The database could not serve the request for a reason of the machine's (storage.unavailable)."""

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason


def _render(error: HTTPException):
    # Other 4xx are the request's doing, not the server's: say so rather than blame ourselves.
    fallback = ("The request could not be accepted." if error.code < 500
                else "Something went wrong on our side. Try again in a moment.")
    g.user = user_for_error_page()  # the same header as other pages, even if refused before it was looked up
    advice = ADVICE.get(error.code, fallback).format(limit=file_size(current_app.config["MAX_CONTENT_LENGTH"]))
    if isinstance(error, SecurityError):
        advice = UNTRUSTED_HOST
    way_on = (url_for("workspaces.index") if g.user else url_for("auth.login"), "Back to the start")
    draft_for = None
    if isinstance(error, CSRFError) and not g.user and request.endpoint not in PUBLIC:
        advice = SESSION_ENDED.format(hours=current_app.config["SESSION_HOURS"])
        # Back to this page after logging in, where app.js offers what it kept of the input.
        way_on = (url_for("auth.login", next=page_address()), "Log in")
        draft_for = request.script_root + request.path
    if request.blueprint == "participate" and not g.user:
        advice = PARTICIPANT_ADVICE.get(error.code, advice)
        way_on = (url_for("participate.join"), "Enter a join code")
    if isinstance(error, Unavailable):
        return _unavailable_page(error, way_on)
    return render_template("error.html", error=error, advice=advice, way_on=way_on, draft_for=draft_for), error.code


def _unavailable_page(error: Unavailable, way_on: tuple[str, str]):
    """A 503 that says what the machine could not do and loses nothing: a form sent comes back as a
    *Try again* button that sends it once more (without JavaScript too), and app.js's draft of it
    (docs/web.md, *Drafts*) stays for its page. A file cannot be sent back: the person chooses it
    again, from the page, which it leads back to."""
    resend, draft_for, advice = None, None, f"The server cannot show this page just now: {error.reason}."
    if request.method == "POST":
        draft_for = request.script_root + request.path
        fields = [(name, value) for name, value in request.form.items(multi=True) if name != "csrf_token"]
        advice = f"The server could not save: {error.reason}. Nothing was saved."
        if request.files:
            advice += " Choose the file again and send it once more in a moment."
            if form_page := _form_page():
                way_on = (form_page, "Back to the form")
        # A password or code is never written back into a page: the person types it again.
        elif not secret_field_names().intersection(name for name, _ in fields):
            advice += " What you sent is kept below: try again in a moment."
            resend = (request.script_root + request.full_path.rstrip("?"), fields)
    else:
        advice += " Try again in a moment."
    page = render_template("error.html", error=error, advice=advice, way_on=way_on, draft_for=draft_for,
                           draft_when="back on that page, it offers to restore it", resend=resend)
    return page, error.code, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _form_page() -> str | None:
    """The page a form was sent from: this address if it shows one, else the referrer's on this site
    (a form may post to an address that takes nothing else: the agencies' CSV upload); None if neither."""
    if request.url_rule and "GET" in request.url_rule.methods:
        return request.script_root + request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    page = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    same_site = referrer.netloc == request.host and page.startswith(request.script_root + "/")
    return page if same_site and is_path_on_this_site(page) else None


def _storage_failed(error: sqlite3.Error):
    """A 503 for an error of the machine's (a full disk, a database locked past the busy timeout),
    logged for the operator; any other database error is a mistake in the code, re-raised."""
    reason = storage.unavailable(error)
    if reason is None:
        raise error
    current_app.logger.error("could not use the database (%s): %s %s: %s", reason, request.method,
                             logged_path(request.path), error)
    return _render(Unavailable(reason))


def _refuse_untrusted_host() -> None:
    """A 400 for a Host header outside TRUSTED_HOSTS, before any other check reads the request.

    Flask leaves such a request without URLs to build, so the error page failed with it (a 500):
    it gets them bound to a trusted host. The pages build paths, in which no host appears."""
    if isinstance(request.routing_exception, SecurityError):
        host = current_app.config["TRUSTED_HOSTS"][0].lstrip(".")  # ".example.org" trusts its subdomains
        request_ctx.url_adapter = current_app.url_map.bind(host, script_name=request.script_root,
                                                           url_scheme=request.scheme)
        raise request.routing_exception


def _unexpected(error: Exception):
    # Never an HTTPException: Flask gives those to the handler registered for them, ``_render``.
    # Flask logs only the exceptions no handler takes: without this, the operator never saw a 500's cause.
    current_app.log_exception((type(error), error, error.__traceback__))
    return _render(InternalServerError(original_exception=error))


def init_app(app: Flask) -> None:
    """Called before any other subsystem adds a check of the request: the host's comes first."""
    app.before_request(_refuse_untrusted_host)
    app.register_error_handler(HTTPException, _render)
    app.register_error_handler(sqlite3.Error, _storage_failed)  # in tests too: what the person sees is tested
    if not app.testing:  # tests see the real traceback instead
        app.register_error_handler(Exception, _unexpected)
