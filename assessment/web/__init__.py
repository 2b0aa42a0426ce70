"""The web layer: the Flask app factory and its blueprints."""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

from flask import Config, Flask, current_app, g
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .. import accounts, charts, storage
from ..paths import DEFAULT_RUBRIC, TEMPLATES
from ..portfolios import LINK_DAYS
from ..rubrics import add_rubric
from ..workshops import MAX_PARTICIPANTS, PARTICIPANT_IDLE_HOURS

_connections = threading.local()
SETUP_CODE = "setup_code"  # the file, in the instance folder until the first account exists


def _secret_key(instance: Path) -> str:
    """The instance's secret key, generated on first run and never kept in the repository."""
    return _instance_secret(instance / "secret_key")


def _instance_secret(path: Path) -> str:
    """The random text in ``path``, which is made owner-only on first use and then kept."""
    try:
        # Created with owner-only permissions from the start, and never overwritten.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()


def utc_minute(stamp: str) -> str:
    """A stored time (ISO 8601, UTC) to the minute, with its zone: without it, it reads as local time."""
    return f"{stamp[:16].replace('T', ' ')} UTC"


class RowId(IntegerConverter):
    """``<int:...>`` in a URL: a number past SQLite's largest integer matches no route, a 404
    (found by hostile-input probing: /w/99999999999999999999 was an OverflowError, a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class SettingError(ValueError):
    """A setting that cannot be used; the message names it as its environment variable."""


# An environment variable is taken as JSON when it parses, else as text: SOVREADY_HTTPS=False
# arrived as the string "False", which is true, and turned HTTPS on.
_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
_COUNTS = {"SESSION_HOURS": 1, "INVITE_HOURS": 1, "AGENCY_LINK_DAYS": 1, "MAX_CONTENT_LENGTH": 1,
           "PROXIES": 0, "WORKSHOP_MAX_PARTICIPANTS": 1}  # and the least allowed


def _check_settings(config: Config) -> None:
    """Each setting as its type, or a SettingError that names it."""
    value = config["HTTPS"]
    if not isinstance(value, bool):
        if str(value).strip().lower() not in _BOOLEANS:
            raise SettingError(f"SOVREADY_HTTPS={value!r}: expected true or false")
        config["HTTPS"] = _BOOLEANS[str(value).strip().lower()]
    for name, least in _COUNTS.items():
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise SettingError(f"SOVREADY_{name}={value!r}: expected a whole number of at least {least}")


def _load_settings(config: Config, test_config: dict | None = None) -> None:
    """Defaults, then ``instance/config.py``, then ``SOVREADY_*`` variables, then tests' overrides."""
    config.from_mapping(DATABASE=str(Path(config.root_path) / "sovready.db"), RUBRIC=str(DEFAULT_RUBRIC),
                        MAX_CONTENT_LENGTH=1024 * 1024, SESSION_HOURS=8, INVITE_HOURS=72,
                        AGENCY_LINK_DAYS=LINK_DAYS, HTTPS=False, PROXIES=0,
                        WORKSHOP_MAX_PARTICIPANTS=MAX_PARTICIPANTS)
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("SOVREADY")  # e.g. SOVREADY_HTTPS=true, SOVREADY_SESSION_HOURS=4
    config.update(test_config or {})
    _check_settings(config)


def database_path(instance: Path) -> Path:
    """The database of the app at ``instance``, which its settings may place elsewhere: what the
    command line's backup and restore work on, without making the app (which would migrate it)."""
    config = Config(str(instance))
    _load_settings(config)
    return Path(config["DATABASE"])


def _configure(app: Flask, test_config: dict | None) -> None:
    _load_settings(app.config, test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    hours = app.config["SESSION_HOURS"]
    # The CSRF token lives as long as the longest session: a long dimension page never expires mid-form,
    # nor one a participant left open overnight.
    app.config.update(PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
                      WTF_CSRF_TIME_LIMIT=int(longest_session(app.config).total_seconds()),
                      # The server-side session has a fixed end, so the cookie need not be re-sent each time
                      # (a participant's is, now and then: participate._keep_place).
                      SESSION_REFRESH_EACH_REQUEST=False, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=app.config["HTTPS"])
    if app.config["HTTPS"]:
        # __Host-: the browser accepts it only if Secure, for this host alone and the whole path.
        app.config.update(SESSION_COOKIE_NAME="__Host-session", SESSION_COOKIE_PATH="/")


def longest_session(config) -> timedelta:
    """How long the longest session lasts from its cookie's last sending: an account's SESSION_HOURS, or a
    workshop participant's PARTICIPANT_IDLE_HOURS, whose cookie each visit renews. A participant's cookie
    lasts this long (auth.cookie_lifetime), and so does every CSRF token (_configure)."""
    return max(timedelta(hours=config["SESSION_HOURS"]), timedelta(hours=PARTICIPANT_IDLE_HOURS))


def create_app(test_config: dict | None = None, instance_path: str | Path | None = None) -> Flask:
    """Create the app: configure it, open the database, register the pages."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder="static",
                instance_path=str(Path(instance_path).resolve()) if instance_path else None,
                instance_relative_config=True)
    # The owner's alone when the app makes it: the database holds every organization's answers
    # and the password hashes, and a usual umask would let every account on the machine read it.
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    app.url_map.converters["int"] = RowId  # before any route is added
    _configure(app, test_config)
    _init_storage(app)
    from . import (
        admin,
        assets,
        audit,
        auth,
        errors,
        forms,
        home,
        journey,
        participate,
        portfolios,
        reports,
        security,
        security_log,
        transfer,
        urls,
        workshops,
        workspaces,
    )

    for module in (errors, security, auth, security_log, urls, assets):  # errors first: it checks the host
        module.init_app(app)
    charts.register(app.jinja_env)
    # For the error summary atop each form, and pairing rubric items with their form fields.
    app.jinja_env.globals.update(error_items=forms.error_items, aria_attributes=forms.aria_attributes, zip=zip)
    app.jinja_env.filters["utc_minute"] = utc_minute
    for module in (home, auth, workspaces, journey, transfer, reports, admin, workshops, participate, portfolios,
                   audit):
        app.register_blueprint(module.bp)
    if app.config["HTTPS"]:
        app.wsgi_app = _over_https(app.wsgi_app)
    if app.config["PROXIES"]:
        # The client's address from X-Forwarded-For, as set by that many proxies in front: the
        # log-in and join-code limits then count clients, not the proxy. Never by default, or any
        # client could name an address of its choosing and escape them. The path the proxy serves the
        # app under (X-Forwarded-Prefix, e.g. /sovready) too: every link and redirect must carry it.
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=0, x_host=0, x_port=0, x_prefix=proxies)
    return app


def _over_https(wsgi_app):
    """Every request taken as HTTPS, which the operator declares it is (``SOVREADY_HTTPS``): the
    TLS-terminating proxy in front speaks plain HTTP to the app, and the links the app gives out
    (invitations, workshop join codes) must say https://, or a newcomer's first request would
    carry their secret unencrypted. Flask-WTF then also checks that a form came from this site."""

    def app(environ, start_response):
        environ["wsgi.url_scheme"] = "https"
        return wsgi_app(environ, start_response)

    return app


def _init_storage(app: Flask) -> None:
    """Migrate the database and store the configured rubric, the default for new assessments."""
    rubric_path = Path(app.config["RUBRIC"])
    db = storage.init(app.config["DATABASE"])
    rubric, _ = add_rubric(db, rubric_path.read_text(encoding="utf-8"), rubric_path.name)
    if not accounts.has_users(db):
        # Whoever completes the first-run setup becomes the administrator: only someone who can read
        # the instance folder (or the server's output, which prints it) may.
        app.config["SETUP_CODE"] = _instance_secret(Path(app.instance_path) / SETUP_CODE)
    db.close()
    app.config["DEFAULT_RUBRIC"] = (rubric.id, rubric.version)
    app.teardown_appcontext(_release_db)


def get_db():
    """The request's database connection: its thread's, opened once and kept.

    Opening a connection (WAL, synchronous, busy timeout, foreign keys) costs more than most
    pages' queries, so each worker thread keeps one; a fork opens its own.
    """
    if "db" not in g:
        g.db = _thread_connection(current_app.config["DATABASE"])
    return g.db


def _thread_connection(path: str):
    key = (os.getpid(), path)
    if getattr(_connections, "key", None) != key:
        _connections.key, _connections.db = key, storage.connect(path)
    return _connections.db


def _release_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is None:
        return
    try:
        if db.conn.in_transaction:  # the next request must start clean
            db.conn.rollback()
    except sqlite3.ProgrammingError:  # closed by its user (before a restore): open anew next time
        _connections.key = None
