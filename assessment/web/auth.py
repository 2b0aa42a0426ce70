"""First-run setup, log in and out, password change; who the current user is."""

from __future__ import annotations

import copy
import functools
import hmac
import secrets
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import accounts, ratelimit
from . import SETUP_CODE, get_db, longest_session, security_log
from .contentcache import cache
from .forms import LoginForm, PasswordForm, SetupForm

bp = Blueprint("auth", __name__)
# Pages that work without an account: everything else needs one, and before the first
# account exists everything but these sends people to the setup page.
PUBLIC = {"static", "home.health", "auth.setup", "auth.login", "workspaces.invite",
          # Workshop participants have no account; these pages check their own token.
          "participate.join", "participate.join_code", "participate.home", "participate.dimension",
          # Agencies accept a portfolio invitation before they have an account.
          "portfolios.join"}


def _needs_setup() -> bool:
    # Once an account exists it stays that way (accounts are disabled, never deleted), so the
    # answer is remembered per process instead of asked of the database on every request.
    if current_app.extensions.get("sovready.has_users"):
        return False
    found = accounts.has_users(get_db())
    current_app.extensions["sovready.has_users"] = found
    return not found


def _load_user():
    g.user = None
    if request.endpoint in ("static", "home.health"):  # no database work for these
        return None
    g.user = accounts.session_user(get_db(), session.get("sid"))
    if request.endpoint == "auth.setup":
        return None
    if _needs_setup():
        return redirect(url_for("auth.setup"))
    # An address no route takes gets its 404 (or 405) whoever asks: a log-in would not find it either,
    # and a POST there had been told that its session ended.
    if g.user is None and request.endpoint not in PUBLIC and request.routing_exception is None:
        if request.method == "POST":  # the session ended while the form was open
            flash(SESSION_ENDED.format(hours=current_app.config["SESSION_HOURS"]), "error")
        return redirect(url_for("auth.login", next=page_address()))
    return None


def page_address() -> str:
    """This page's path and query as the browser asked for them, with the prefix the app is served
    under (docs/operations.md), as the log-in's ``next`` and the key of app.js's drafts name it."""
    return request.script_root + request.full_path.rstrip("?")


def user_for_error_page():
    """The signed-in user, for an error page: it may have been raised before ``_load_user`` ran
    (a refused CSRF token is, checked first), and its header shows the same navigation as every
    other page. None when there is none or it cannot be looked up (the database may be the error's
    cause). Looked up anew: error pages are rare, and ``g`` may hold an earlier request's user."""
    try:
        return accounts.session_user(get_db(), session.get("sid"))
    except Exception:  # noqa: BLE001 (an error page must render whatever went wrong)
        return None


# A form sent after the session ended (SESSION_HOURS after log-in) is refused whole, by the CSRF
# check once the cookie has expired too (errors.py), or here: say what to do before the browser
# forgets what was typed.
SESSION_ENDED = ("Your session has ended (sessions last {hours} hours after logging in), so this was not saved. "
                 "Go back with your browser's Back button, which usually still shows what you typed, copy it, "
                 "then log in again and enter it.")

COOKIES_CACHED = 1024  # a few hundred bytes each
_UNTAGGED = frozenset({str, int, float, bool, type(None)})  # what no tag of Flask's serializer matches


class SessionSerializer(TaggedJSONSerializer):
    """Flask's session serializer, which tries each of its eight tags on every value, strings
    included, before writing it as it is: a session is mostly strings (its id, the CSRF secret,
    flash messages), and trying was a third of signing the cookie that every save sends."""

    def tag(self, value):
        return value if type(value) in _UNTAGGED else super().tag(value)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, verified once per cookie.

    Checking a cookie's signature (a key derivation and an HMAC) and decoding it was 6 to 7% of
    a cached page's instructions, and a browser sends the same cookie all session long (it is
    not re-sent on each response: ``SESSION_REFRESH_EACH_REQUEST`` is off). A cookie seen before
    is only checked for age; each request gets its own copy of what it holds, to change.
    The server-side session it names is still looked up on every request (``_load_user``).
    """

    serializer = SessionSerializer()

    def open_session(self, app, request):
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return super().open_session(app, request)
        verified = cache("session cookies", COOKIES_CACHED)
        known = verified.get(cookie)
        if known is None:
            try:
                data, signed = self.get_signing_serializer(app).loads(cookie, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            known = (data, signed.timestamp())
            verified.put(cookie, known)
        data, signed = known
        if not 0 <= time.time() - signed <= cookie_lifetime(app, data).total_seconds():
            return self.session_class()  # as itsdangerous refuses it: expired, or signed in the future
        session = self.session_class(copy.deepcopy(data))
        session.signed_at = signed  # when it was last sent: an older participant's cookie counts from then
        return session

    def get_signing_serializer(self, app):
        """Flask's, made once per app and secret key rather than for each cookie signed: making one
        (it serializes an empty session to learn whether its output is text) was 1.5% of an answer
        submission, whose message to the next page is a new cookie."""
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = app.extensions.get("sovready.session serializer")
        if made is None or made[0] != keys:
            made = (keys, super().get_signing_serializer(app))
            app.extensions["sovready.session serializer"] = made
        return made[1]

    def get_expiration_time(self, app, session):
        return datetime.now(UTC) + cookie_lifetime(app, session) if session.permanent else None


def cookie_lifetime(app, data) -> timedelta:
    """How long the session cookie lasts from when it was last sent. An account's server-side session
    ends SESSION_HOURS after logging in whatever the cookie says; a workshop participant, who has no
    other, keeps their place for workshops.PARTICIPANT_IDLE_HOURS after their last visit, since each
    visit renews the cookie (participate.py)."""
    if data.get("workshops"):
        return longest_session(app.config)
    return app.permanent_session_lifetime


def init_app(app):
    app.session_interface = CookieSessions()
    app.before_request(_load_user)


def admin_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if not g.user["is_admin"]:
            abort(403)
        return view(**kwargs)
    return wrapped


def log_in(user_id: int, event: str) -> None:
    """Start a server-side session under a fresh cookie: the old session id is never reused, and
    a session it replaces (someone who had not logged out on this browser) is ended. ``event``
    names it in the security log: "login", "account-created", "password-changed"."""
    if session.get("sid"):
        accounts.end_session(get_db(), session["sid"])
    session.clear()
    session.permanent = True
    session["sid"] = accounts.start_session(get_db(), user_id, current_app.config["SESSION_HOURS"])
    security_log.event(event, user=user_id)


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the workspaces page: where log-in goes next."""
    if target and is_path_on_this_site(target):
        return target
    return url_for("workspaces.index")


def is_path_on_this_site(target: str) -> bool:
    # "//evil.example" and "https://..." would leave the site. So would "/\t/evil.example" and
    # "/\\evil.example": Werkzeug and browsers drop tabs and newlines from a Location and read a
    # backslash as a slash. A CR or LF cannot be in a header at all (a 500 after logging in).
    if "\\" in target or any(c.isspace() or unicodedata.category(c).startswith("C") for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and parts.path.startswith("/") and not parts.path.startswith("//")


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not _needs_setup():
        abort(404)
    form = SetupForm()
    form.expected_code = current_app.config.get("SETUP_CODE")
    if form.validate_on_submit():
        try:
            user_id, workspace_id = accounts.create_first_admin(
                get_db(), form.email.data, form.name.data, form.password.data, form.workspace.data)
        except ValueError:  # someone else finished the setup a moment ago
            abort(404)
        current_app.extensions["sovready.has_users"] = True
        (Path(current_app.instance_path) / SETUP_CODE).unlink(missing_ok=True)
        log_in(user_id, "account-created")
        flash("Welcome. Your administrator account and first workspace are ready.")
        return redirect(url_for("workspaces.dashboard", workspace_id=workspace_id))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = _authenticate_limited(form.email.data, form.password.data, "login", _device_key(form.email.data))
        if user:
            log_in(user["id"], "login")
            return _known_device(redirect(_safe_next(request.args.get("next"))), form.email.data)
        form.password.errors.append("The email address or the password is not right.")
    return render_template("auth/login.html", form=form)


# A browser that has logged in to an account carries a signed cookie saying so, and its wrong
# passwords for that account count against the cookie rather than the account: else anyone who
# knows an email address could keep its account locked (ten guesses every ten minutes suffice)
# while its owner, on a browser used before, still gets in. (OWASP's "device cookies".)
DEVICE_DAYS = 365
DEVICE_SALT = "sovready known device"


def _device_cookie_name() -> str:
    return "__Host-device" if current_app.config["HTTPS"] else "device"


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=DEVICE_SALT)


def _account_mark(email: str) -> str:
    """Which account a device cookie is for, keyed with the secret: the cookie is signed, not
    encrypted, and a browser left logged out should not show whose it was."""
    return hmac.new(current_app.secret_key.encode(), email.strip().lower().encode(), "sha256").hexdigest()[:32]


def _known_device(response, email: str):
    """``response`` with this browser's device cookie for the account of ``email``."""
    token = _device_signer().dumps({"account": _account_mark(email), "device": secrets.token_urlsafe(16)})
    response.set_cookie(_device_cookie_name(), token, max_age=DEVICE_DAYS * 86400, path="/", httponly=True,
                        secure=current_app.config["HTTPS"], samesite="Lax")
    return response


def _device_key(email: str) -> str | None:
    """The failure limit's key of this browser for the account of ``email``, if it has logged in to it."""
    cookie = request.cookies.get(_device_cookie_name())
    if not cookie:
        return None
    try:
        found = _device_signer().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    return f"device:{found['device']}" if found.get("account") == _account_mark(email) else None


def client_address() -> str:
    """Whom the failure limits count: behind a reverse proxy, the proxy, unless SOVREADY_PROXIES
    says how many are in front (docs/operations.md)."""
    return request.remote_addr or "unknown"


def _authenticate_limited(email: str, password: str, event: str, device: str | None = None) -> dict | None:
    """``accounts.authenticate`` within the failure limits: 429 once the client's address or the
    account has used them up, and a wrong password counts against both. Every check of a password
    goes through here (log-in, and the current password on a change), or a guesser would use the
    one without a limit. ``event`` names the security-log events ("login-failed", ...); ``device``
    is a browser's key (``_device_key``), which counts in place of the account."""
    # Per address and per account: a guesser is slowed whichever of the two they vary.
    keys = (f"login:{client_address()}", device or f"account:{email.strip().lower()}")
    marks = ratelimit.attempt(get_db(), *keys)
    if marks is None:
        security_log.event(f"{event}-limited", email=email)
        abort(429)
    user = accounts.authenticate(get_db(), email, password)
    if user is None:
        security_log.event(f"{event}-failed", email=email)
    else:
        ratelimit.succeeded(get_db(), marks)
    return user


@bp.post("/logout")
def logout():
    # Only a logged-in user gets here (_load_user sends others to the log-in): the session is theirs.
    accounts.end_session(get_db(), session["sid"])
    security_log.event("logout", user=g.user["id"])
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        if not _authenticate_limited(g.user["email"], form.current.data, "password-change"):
            form.current.errors.append("This is not your current password.")
        elif _changed_password(form):
            log_in(g.user["id"], "password-changed")  # every other session ended with the old password
            flash("Your password is changed. Other sessions are logged out.")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


def _changed_password(form) -> bool:
    """Set the new password; False, with the reason beside the field, if it is refused."""
    try:
        accounts.set_password(get_db(), g.user["id"], form.password.data, by=g.user["id"])
    except ValueError as error:  # too short, easy to guess, made of the user's own details
        form.password.errors.append(str(error))
        return False
    return True
