"""Workshops, the facilitator's side: open one, watch the divergence, reveal, agree, close.

Only the assessment's editors and owners facilitate (``assessment_for(..., write=True)``).
"""

from __future__ import annotations

import functools

import segno
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import portfolios, workshops
from . import get_db
from .access import assessment_for, closed_message, listed, refuse_if_closed, refused_in_closed_round
from .confirm import ask_first
from .forms import ConsensusForm, workshop_form
from .journey import forget_draft

bp = Blueprint("workshops", __name__)


def _workshop_for(workshop_id: str):
    """The workshop with its assessment, workspace and rubric; 404 or 403 as for the assessment."""
    workshop = workshops.get_workshop(get_db(), workshop_id)
    if workshop is None:
        abort(404)
    return (workshop, *assessment_for(workshop.assessment_id, write=True))


def _back(workshop_id: str):
    return redirect(url_for("workshops.dashboard", workshop_id=workshop_id))


def qr_svg(link: str) -> Markup:
    """The join link as a QR code in inline SVG (segno; no inline style, so the CSP holds)."""
    code = segno.make(link, error="m")
    return Markup(code.svg_inline(scale=6, title="QR code of the join link", svgclass="qr"))  # noqa: S704 (segno's SVG)


@bp.route("/a/<assessment_id>/workshops", methods=["GET", "POST"])
def index(assessment_id: str):
    """The assessment's workshops, and the form that opens a new one."""
    assessment, workspace, rubric = assessment_for(assessment_id, write=True)
    results = url_for("journey.results", assessment_id=assessment.id)
    if request.method == "POST":
        refuse_if_closed(assessment, results)
    form = workshop_form(rubric)(formdata=None if request.method == "GET" else request.form)
    if request.method == "POST" and form.validate():
        try:
            workshop_id = workshops.create_workshop(get_db(), assessment.id, form.dimensions.data, g.user["id"])
        except workshops.RoundClosed as error:
            return refused_in_closed_round(error.closed, results)
        return _back(workshop_id)
    found = workshops.workshops_of(get_db(), assessment.id)
    return render_template("workshops/index.html", assessment=assessment, workspace=workspace, form=form,
                           workshops=found, covers={w.id: _covers(w, rubric) for w in found},
                           closed=_round_closed(assessment))


def _covers(workshop, rubric) -> str:
    """The workshop's dimensions in words ("Data sovereignty and Security and resilience"), in rubric order."""
    titles = [d.title for d in rubric.dimensions if d.id in workshop.dimensions]
    return " and ".join(filter(None, [", ".join(titles[:-1]), titles[-1]])) if titles else ""


def _round_closed(assessment) -> str | None:
    """Why the assessment's workshops take no more answers, consensus or workshops: its round is closed."""
    closed = portfolios.closed_round(get_db(), assessment.id)
    return closed_message(closed) if closed else None


def _dashboard_context(workshop, rubric) -> dict:
    db = get_db()
    questions = workshops.questions_of(rubric, workshop.dimensions)
    link = url_for("participate.join_code", code=workshop.join_code, _external=True)
    return {"questions": {q.id: q for q in questions}, "link": link, "qr": qr_svg(link),
            "covers": _covers(workshop, rubric),
            "spreads": workshops.divergence([q.id for q in questions], workshops.all_answers(db, workshop.id)),
            "participants": workshops.participants(db, workshop.id),
            "cap": current_app.config["WORKSHOP_MAX_PARTICIPANTS"],
            "consensus": workshops.consensus(db, workshop.id),
            "labels": {name: getattr(ConsensusForm, name).args[0] for name in ("level", "rationale")},
            "rationale_help": ConsensusForm.rationale.kwargs["description"]}


def _dashboard(workshop, assessment, workspace, rubric, auto=False, refused=None):
    """The dashboard; ``refused`` is a (question id, ConsensusForm) whose errors it shows there."""
    return render_template("workshops/dashboard.html", workshop=workshop, assessment=assessment,
                           workspace=workspace, auto=auto, refused=refused, closed=_round_closed(assessment),
                           **_dashboard_context(workshop, rubric))


@bp.get("/workshops/<workshop_id>")
def dashboard(workshop_id: str):
    """Who joined, how far each got, and every question's distribution, most divergent first.

    With ``?auto=1`` the page reloads itself every five seconds and shows no consensus form:
    a reload would erase a rationale half typed.
    """
    workshop, assessment, workspace, rubric = _workshop_for(workshop_id)
    return _dashboard(workshop, assessment, workspace, rubric, auto=request.args.get("auto") == "1")


@bp.post("/workshops/<workshop_id>/reveal")
def reveal(workshop_id: str):
    _workshop_for(workshop_id)  # CSRF is checked for every POST by security.csrf
    if workshops.reveal(get_db(), workshop_id, by=g.user["id"]):
        flash("Participants now see the distribution of answers.")
    else:
        flash("The distribution was already revealed to participants: nothing changed.")
    return _back(workshop_id)


@bp.route("/workshops/<workshop_id>/close", methods=["GET", "POST"])
def close(workshop_id: str):
    """GET asks (a page, so that it works without JS); POST closes. A closed one has nothing to ask."""
    workshop, assessment, workspace, _ = _workshop_for(workshop_id)
    if workshop.closed:
        return _back(workshop_id)
    if asking := ask_first(
            "Close the workshop?",
            "Participants can no longer join or answer: late answers are refused. "
            "The answers given so far stay, and you can still record the consensus.",
            "Close the workshop", url_for("workshops.dashboard", workshop_id=workshop_id),
            _crumbs(workshop, assessment, workspace)):
        return asking
    workshops.close(get_db(), workshop_id, by=g.user["id"])
    flash("The workshop is closed: late answers are refused.")
    return _back(workshop_id)


def _change_joins(workshop_id: str, change, done: str):
    """``change(db, workshop_id, by=...)``, one of the joins' settings, made by the facilitator; ``done`` says so."""
    _workshop_for(workshop_id)  # refused as the dashboard is; CSRF is checked for every POST by security.csrf
    change(get_db(), workshop_id, by=g.user["id"])
    flash(done)
    return _back(workshop_id)


@bp.post("/workshops/<workshop_id>/joins/stop")
def stop_joins(workshop_id: str):
    """No one new joins, with the code or its link; those who joined go on answering."""
    return _change_joins(workshop_id, functools.partial(workshops.stop_joins, stop=True),
                         "New joins are stopped: those who joined go on answering.")


@bp.post("/workshops/<workshop_id>/joins/allow")
def allow_joins(workshop_id: str):
    return _change_joins(workshop_id, functools.partial(workshops.stop_joins, stop=False),
                         "People can join again with the code.")


@bp.post("/workshops/<workshop_id>/code")
def new_code(workshop_id: str):
    """A new join code, when the old one has leaked: it and its link stop working."""
    return _change_joins(workshop_id, workshops.new_code,
                         "The workshop has a new join code: the old one no longer lets anyone join. "
                         "Those who joined go on answering.")


def _crumbs(workshop, assessment, workspace) -> list:
    return [(workspace["name"], url_for("workspaces.dashboard", workspace_id=workspace["id"])),
            (f"{assessment.title}: workshops", url_for("workshops.index", assessment_id=assessment.id)),
            ("Workshop", url_for("workshops.dashboard", workshop_id=workshop.id))]


@bp.get("/workshops/<workshop_id>/consensus/<question_id>")
def consensus_question(workshop_id: str, question_id: str):
    """The question on the dashboard: where logging in again leads after a consensus was sent once the
    session had ended (the log-in's ``next`` is the address the form was sent to)."""
    _workshop_for(workshop_id)  # refused as the dashboard is, before naming it
    return redirect(url_for("workshops.dashboard", workshop_id=workshop_id, _anchor=f"q-{question_id}"))


@bp.post("/workshops/<workshop_id>/consensus/<question_id>")
def set_consensus(workshop_id: str, question_id: str):
    """Record the agreed level of one question; it becomes the assessment's answer."""
    workshop, assessment, workspace, rubric = _workshop_for(workshop_id)
    if question_id not in {q.id for q in workshops.questions_of(rubric, workshop.dimensions)}:
        abort(404)
    form = ConsensusForm()
    refused = (question_id, form)
    if portfolios.closed_round(get_db(), assessment.id):  # the page shows why, and what was typed
        return _dashboard(workshop, assessment, workspace, rubric, refused=refused)
    if not form.validate():
        return _dashboard(workshop, assessment, workspace, rubric, refused=refused)
    try:
        workshops.set_consensus(get_db(), workshop, rubric, question_id, int(form.level.data),
                                (form.rationale.data or "").strip(), g.user["id"])
    except workshops.RoundClosed:  # closed since the check above: the dashboard now says so
        return _dashboard(workshop, assessment, workspace, rubric, refused=refused)
    except workshops.RationaleTooLong as error:
        form.rationale.errors.append(f"With this answer's evidence note, the rationale can be at most "
                                     f"{error.room} characters. Shorten it, or the evidence note.")
        return _dashboard(workshop, assessment, workspace, rubric, refused=(question_id, form))
    forget_draft()
    flash(f"Consensus recorded for “{rubric.questions[question_id].title}”: level {form.level.data}.")
    return redirect(url_for("workshops.dashboard", workshop_id=workshop_id, _anchor=f"q-{question_id}"))


@bp.route("/workshops/<workshop_id>/participants/<int:participant_id>/forget", methods=["GET", "POST"])
def forget(workshop_id: str, participant_id: int):
    """Delete a participant's name and link on request; their answers stay, anonymous.

    GET asks (a page, so that it works without JS); POST deletes. Only for this workshop's participants.
    """
    workshop, assessment, workspace, _ = _workshop_for(workshop_id)
    participant = listed(workshops.participants(get_db(), workshop_id), participant_id)
    if participant["deleted"]:
        return _back(workshop_id)
    if asking := ask_first(
            f"Delete the personal data of {participant['display_name']}?",
            "Their name and their link to this workshop are deleted for good; their answers stay, anonymous.",
            "Delete personal data", url_for("workshops.dashboard", workshop_id=workshop_id),
            _crumbs(workshop, assessment, workspace)):
        return asking
    workshops.forget_participant(get_db(), workshop_id, participant_id, by=g.user["id"])
    flash("The participant's personal data is deleted; their answers stay, anonymous.")
    return _back(workshop_id)


@bp.route("/workshops/<workshop_id>/participants/<int:participant_id>/remove", methods=["GET", "POST"])
def remove(workshop_id: str, participant_id: int):
    """Remove a participant with their answers: they no longer count in the distribution.

    GET asks (a page, so that it works without JS); POST removes. Only for this workshop's participants.
    """
    workshop, assessment, workspace, _ = _workshop_for(workshop_id)
    participant = listed(workshops.participants(get_db(), workshop_id), participant_id)
    back = url_for("workshops.dashboard", workshop_id=workshop_id)
    if participant["answered"]:  # their answers are in a closed round's PDF
        refuse_if_closed(assessment, back)
    if asking := ask_first(
            f"Remove {participant['display_name']} and their answers?",
            f"Their {participant['answered']} answers are deleted for good and leave the distribution; "
            "consensus already recorded stays. To delete only their name and keep the answers, "
            "use Delete personal data instead.",
            "Remove participant and answers", back, _crumbs(workshop, assessment, workspace)):
        return asking
    try:
        workshops.remove_participant(get_db(), workshop_id, participant_id, by=g.user["id"])
    except workshops.RoundClosed as error:  # the round closed after the check above
        return refused_in_closed_round(error.closed, back)
    flash("The participant and their answers are removed.")
    return _back(workshop_id)
