"""What the rubric measures, and the health check."""

from flask import Blueprint, current_app, render_template

from ..rubrics import stored_rubric
from . import get_db

bp = Blueprint("home", __name__)


@bp.get("/rubric")
def rubric():
    return render_template("rubric.html", rubric=stored_rubric(get_db(), *current_app.config["DEFAULT_RUBRIC"]))


@bp.get("/healthz")
def health():
    return {"status": "ok"}
