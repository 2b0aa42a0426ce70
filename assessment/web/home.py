"""What the rubric measures, and the health check."""

from flask import Blueprint, abort, current_app, render_template

from ..rubrics import list_rubrics, peers_for, stored_rubric
from . import get_db

bp = Blueprint("home", __name__)


@bp.get("/rubric")
def rubric():
    return _rubric_page(*current_app.config["DEFAULT_RUBRIC"])


@bp.get("/rubric/<rubric_id>/<version>")
def rubric_version(rubric_id: str, version: str):
    """A stored version, which any signed-in user may read: versions are the instance's, and any
    user may start an assessment on any of them."""
    return _rubric_page(rubric_id, version)


def _rubric_page(rubric_id: str, version: str):
    try:
        rubric = stored_rubric(get_db(), rubric_id, version)
    except LookupError:
        abort(404)
    return render_template("rubric.html", rubric=rubric, peers=peers_for(rubric), versions=list_rubrics(get_db()),
                           default=tuple(current_app.config["DEFAULT_RUBRIC"]))


@bp.get("/healthz")
def health():
    return {"status": "ok"}
