"""Workshops, the participants' side: join with a code and a name, answer, see the reveal.

Participants have no account. Joining puts a random token in their (signed) session cookie,
keyed by workshop; the database keeps only its hash. These pages are public (auth.PUBLIC) and
reach nothing but the participant's own workshop: every other page still needs an account.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from .. import portfolios, ratelimit, records, workshops
from ..rubric import Rubric
from ..rubrics import stored_rubric
from . import get_db, urls
from .auth import client_address
from .forms import JoinCodeForm, JoinForm, dimension_form
from .journey import forget_draft

bp = Blueprint("participate", __name__)
JOIN_FAILURE_LIMIT = 50  # wrong codes per address in ratelimit.FAILURE_WINDOW: 7,200 guesses a day of 8.5e11
CLOSED = "This workshop is closed: answers are no longer accepted. Thank you for taking part."
JOINS_STOPPED = ("The facilitator has stopped new joins to this workshop. If you are meant to take part, "
                 "ask the facilitator to let people join again.")
NO_NEW_JOINS = ("No new participants", JOINS_STOPPED)
RENEW_AFTER = 15 * 60  # seconds: a participant's cookie is sent anew at most this often, not with every page
FULL = ("This workshop is full: it has {cap} participants, as many as this server lets one workshop have. "
        "Ask the facilitator to make room: they can remove anyone who joined twice or should not count.")
# Participants need no account: the message does not name the portfolio or the round.
ROUND_CLOSED = ("This workshop's assessment is kept as the result of a closed portfolio round: "
                "answers are no longer accepted. Thank you for taking part.")


def _find(code: str):
    """The workshop with this code, or None for a wrong code, which counts against the client's address.

    Once an address has had JOIN_FAILURE_LIMIT wrong codes, it gets 429 for every code, right or
    wrong: answering a right one would tell a guesser which it is. Only a participant who already
    joined (their session holds the workshop's token) always gets in. The limit is higher than the
    log-in's because a room shares one address and people mistype codes.
    """
    workshop = workshops.by_code(get_db(), code)
    if workshop is not None and _participant(workshop) is not None:
        return workshop
    marks = ratelimit.attempt(get_db(), f"join:{client_address()}", limit=JOIN_FAILURE_LIMIT)
    if marks is None:
        abort(429)
    if workshop is not None:
        ratelimit.succeeded(get_db(), marks)
    return workshop


@bp.route("/join", methods=["GET", "POST"])
def join():
    """Enter the join code shown by the facilitator."""
    form = JoinCodeForm()
    if form.validate_on_submit():
        workshop = _find(form.code.data)
        if workshop is not None:
            return redirect(url_for("participate.join_code", code=workshop.join_code))
        form.code.errors.append("No workshop has this code. Check it with the facilitator.")
    return render_template("participate/join.html", form=form)


@bp.route("/join/<code>", methods=["GET", "POST"])
def join_code(code: str):
    """Give a display name and join; a participant who already joined goes straight on."""
    workshop = _find(code)
    if workshop is None:
        abort(404)
    if _participant(workshop) is not None:
        return _home(workshop.id)
    if closed := _closed_message(workshop):
        return _closed(closed)
    form = JoinForm()
    cap = current_app.config["WORKSHOP_MAX_PARTICIPANTS"]
    refused = _no_room(workshop, cap)
    if refused is None and form.validate_on_submit():
        try:
            _, token = workshops.join(get_db(), workshop.id, form.display_name.data.strip(), cap=cap)
        except workshops.WorkshopClosed:  # closed while the name was being typed
            return _closed(CLOSED)
        except workshops.RoundClosed:
            return _closed(ROUND_CLOSED)
        except workshops.JoinsStopped:  # stopped, or filled, while the name was being typed
            refused = NO_NEW_JOINS
        except workshops.WorkshopFull:
            refused = ("Workshop full", FULL.format(cap=cap))
        else:
            session.permanent = True  # kept while they are active (_keep_place)
            session["workshops"] = {**session.get("workshops", {}), workshop.id: token}
            _visited(workshop.id)
            return _home(workshop.id)
    # 403, not 410: the facilitator may let people in again; the name typed stays for then.
    return render_template("participate/name.html", form=form, refused=refused), 403 if refused else 200


def _no_room(workshop, cap: int) -> tuple[str, str] | None:
    """The title and message of a join refused while new joins are stopped or the workshop is full."""
    if workshop.joins_stopped_at:
        return NO_NEW_JOINS
    if workshops.participant_count(get_db(), workshop.id) >= cap:
        return "Workshop full", FULL.format(cap=cap)
    return None


def _closed(message: str):
    return render_template("participate/closed.html", message=message), 410


def _closed_message(workshop) -> str | None:
    """Why the workshop takes no more answers, or None while it does."""
    if workshop.closed:
        return CLOSED
    return ROUND_CLOSED if portfolios.closed_round(get_db(), workshop.assessment_id) else None


def _home(workshop_id: str):
    return redirect(urls.url_for("participate.home", workshop_id=workshop_id))  # from the cache: every save ends here


def _token(workshop) -> str | None:
    """The participant's token for this workshop while their place in it lasts."""
    return session.get("workshops", {}).get(workshop.id) if _place_lasts(workshop.id) else None


def _place_lasts(workshop_id: str) -> bool:
    """Whether this browser's place in the workshop lasts: PARTICIPANT_IDLE_HOURS after its last visit to it.
    The cookie holds every workshop this browser joined, and a visit to any renews it, so it alone would
    keep a closed workshop's place for as long as another one goes on."""
    last = _last_visit(workshop_id)
    return last is not None and time.time() - last <= workshops.PARTICIPANT_IDLE_HOURS * 3600


def _last_visit(workshop_id: str) -> float | None:
    # A cookie sent before visits were kept per workshop has only its own time, when it was last sent.
    return session.get("visited", {}).get(workshop_id, getattr(session, "signed_at", None))


def _visited(workshop_id: str) -> None:
    """Note the visit in the cookie, which is then sent anew (auth.cookie_lifetime counts from then)."""
    session["visited"] = {**session.get("visited", {}), workshop_id: int(time.time())}


@bp.after_app_request
def _forget_ended_places(response):
    """Leave out of a cookie about to be sent the workshops whose place has ended: else each stays in it
    for as long as the browser visits another. Whatever writes it (a visit, a join, a save's flash message)."""
    if session.modified and "workshops" in session:  # modified first: reading the session marks it accessed
        places = {w: token for w, token in session["workshops"].items() if _place_lasts(w)}
        session["workshops"] = places
        session["visited"] = {w: at for w, at in session.get("visited", {}).items() if w in places}
    return response


def _participant(workshop) -> dict | None:
    return workshops.participant_for(get_db(), workshop.id, _token(workshop))


def _draft_user(workshop) -> str:
    """Whose drafts app.js keeps on the participant's pages (base.html's draft-user): derived from the
    token, so it names this one joining alone (not a row id, which a later participant may reuse), and
    differs from the hash the database keeps. Another participant on the same phone has another: app.js
    forgets this one's drafts as soon as a page names them."""
    return "participant:" + hashlib.sha256(f"draft:{_token(workshop)}".encode()).hexdigest()[:32]


def _participant_for(workshop_id: str):
    """The workshop, the participant this browser is, and the rubric; 404 for anyone else."""
    workshop = workshops.get_workshop(get_db(), workshop_id)
    participant = _participant(workshop) if workshop else None
    if participant is None:
        abort(404)
    _keep_place(workshop)
    assessment = records.get_assessment(get_db(), workshop.assessment_id)
    return workshop, participant, stored_rubric(get_db(), assessment.rubric_id, assessment.rubric_version)


def _keep_place(workshop) -> None:
    """Renew the participant's place while the workshop takes answers, to last workshops.PARTICIPANT_IDLE_HOURS
    from now (_token). Once it takes none (closed, or its portfolio round is) it is not, so the place ends
    that long after their last visit to it, time enough to see a reveal made after the close."""
    last = _last_visit(workshop.id)
    # The round is looked up only when a renewal is due, not on every page.
    if (last is None or time.time() - last > RENEW_AFTER) and _closed_message(workshop) is None:
        _visited(workshop.id)


def _dimensions(workshop, rubric: Rubric) -> list:
    return [d for d in rubric.dimensions if d.id in workshop.dimensions]


@bp.get("/p/<workshop_id>")
def home(workshop_id: str):
    """The participant's pages, their progress, and the distribution once revealed."""
    workshop, participant, rubric = _participant_for(workshop_id)
    mine = workshops.participant_answers(get_db(), participant["id"])
    questions = workshops.questions_of(rubric, workshop.dimensions)
    spreads = None  # everyone's answers are read only once the facilitator reveals them
    if workshop.revealed:
        spreads = workshops.divergence([q.id for q in questions], workshops.all_answers(get_db(), workshop.id))
    return render_template("participate/home.html", workshop=workshop, participant=participant,
                           dimensions=_dimensions(workshop, rubric), mine=mine, total=len(questions),
                           brand_href=url_for("participate.home", workshop_id=workshop.id),
                           spreads=spreads, questions=rubric.questions, closed_message=_closed_message(workshop),
                           draft_user=_draft_user(workshop))


@bp.route("/p/<workshop_id>/<dimension_id>", methods=["GET", "POST"])
def dimension(workshop_id: str, dimension_id: str):
    """One dimension's questions; each submit saves and returns here or to the overview (PRG)."""
    workshop, participant, rubric = _participant_for(workshop_id)
    found = next((d for d in _dimensions(workshop, rubric) if d.id == dimension_id), None)
    if found is None:
        abort(404)
    form_class = dimension_form(rubric, found.id, False)
    refused = None
    if request.method == "POST":
        form = form_class()
        if form.validate():
            refused = _save(workshop, participant, {q.id: form[q.id].value.data or None for q in found.questions})
            if refused is None:
                forget_draft()
                flash("Your answers are saved.")
                return _home(workshop.id)
    else:
        mine = workshops.participant_answers(get_db(), participant["id"])
        form = form_class(formdata=None, data={q: {"value": v} for q, v in mine.items()})
    # A refused save comes back with what was chosen, and why it is not saved: nothing is lost.
    return render_template("participate/dimension.html", workshop=workshop, dimension=found, form=form,
                           closed_message=refused or _closed_message(workshop), refused=refused is not None,
                           draft_user=_draft_user(workshop),
                           brand_href=url_for("participate.home", workshop_id=workshop.id))


def _save(workshop, participant, answers: dict) -> str | None:
    """Store the page's answers; None, or why the workshop takes them no more."""
    try:
        workshops.save_participant_answers(get_db(), workshop.id, participant["id"], answers)
    except workshops.WorkshopClosed:
        return CLOSED
    except workshops.RoundClosed:
        return ROUND_CLOSED
    return None
