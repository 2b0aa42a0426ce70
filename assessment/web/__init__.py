"""The web layer: the Flask app factory and its blueprints."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, g

from .. import storage
from ..paths import DEFAULT_RUBRIC, TEMPLATES
from ..rubric import load_rubric


def _secret_key(instance: Path) -> str:
    """The instance's secret key, generated on first run and never kept in the repository."""
    path = instance / "secret_key"
    try:
        # Created with owner-only permissions from the start, and never overwritten.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config: dict | None = None, instance_path: str | Path | None = None) -> Flask:
    """Create the app: load the rubric, open the database, register the pages."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder="static",
                instance_path=str(Path(instance_path).resolve()) if instance_path else None,
                instance_relative_config=True)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(DATABASE=str(instance / "sovready.db"), RUBRIC=str(DEFAULT_RUBRIC),
                            MAX_CONTENT_LENGTH=1024 * 1024)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    _init_storage(app)
    from . import home

    app.register_blueprint(home.bp)
    return app


def _init_storage(app: Flask) -> None:
    rubric_path = Path(app.config["RUBRIC"])
    app.extensions["sovready.rubric"] = load_rubric(rubric_path)
    rubric = app.extensions["sovready.rubric"]
    db = storage.init(app.config["DATABASE"])
    storage.register_rubric(db, rubric.id, rubric.version, rubric_path.read_text(encoding="utf-8"))
    db.close()
    app.teardown_appcontext(_close_db)


def get_db():
    """The request's database connection, opened on first use."""
    from flask import current_app

    if "db" not in g:
        g.db = storage.connect(current_app.config["DATABASE"])
    return g.db


def _close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()
