"""What the rubric measures, and the health check."""

from flask import Blueprint, current_app, render_template

from ..rubrics import peers_for, stored_rubric
from . import get_db

bp = Blueprint("home", __name__)


@bp.get("/rubric")
def rubric():
    rubric = stored_rubric(get_db(), *current_app.config["DEFAULT_RUBRIC"])
    return render_template("rubric.html", rubric=rubric, peers=peers_for(rubric))


@bp.get("/healthz")
def health():
    return {"status": "ok"}
