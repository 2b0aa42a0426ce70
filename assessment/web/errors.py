"""One error path: every HTTP error, and any unexpected exception, renders error.html."""

from flask import Flask, current_app, g, render_template, request, url_for
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from .auth import PUBLIC, SESSION_ENDED, page_address, user_for_error_page
from .forms import file_size

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
    return render_template("error.html", error=error, advice=advice, way_on=way_on, draft_for=draft_for), error.code


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
    return _render(InternalServerError(original_exception=error))


def init_app(app: Flask) -> None:
    """Called before any other subsystem adds a check of the request: the host's comes first."""
    app.before_request(_refuse_untrusted_host)
    app.register_error_handler(HTTPException, _render)
    if not app.testing:  # tests see the real traceback instead
        app.register_error_handler(Exception, _unexpected)
