"""The home page: what the rubric measures."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    rubric = current_app.extensions["sovready.rubric"]
    return render_template("home.html", rubric=rubric)


@bp.get("/healthz")
def health():
    return {"status": "ok"}
