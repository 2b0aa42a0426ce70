"""The assessment journey: organization, drivers, one page per dimension, barriers, review, results.

Every page saves on submit, whichever button was pressed, then redirects (POST-redirect-GET)
to the previous step, the next one, or itself.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from wtforms import SelectChoice

from .. import accounts, portfolios, records
from ..answers import Answer, normalize_value
from ..cohorts import FILTERS, CohortStats, Member, cohort_stats
from ..compare import compare
from ..exports import content_digest
from ..rubric import Rubric
from ..rubrics import later_versions, list_rubrics, peers_for, stored_rubric
from ..scoring import score
from ..textreport import HORIZON_NAMES
from . import get_db, urls
from .access import assessment_for, closed_message, refuse_if_closed, workspace_for
from .confirm import ask_first
from .contentcache import cache
from .forms import (
    BASIS_LABELS,
    NewAssessmentForm,
    NewRoundForm,
    about_form,
    barriers_form,
    chosen,
    dimension_form,
    drivers_form,
)
from .pagecache import cached_page

bp = Blueprint("journey", __name__)


class Step(NamedTuple):
    key: str
    label: str
    endpoint: str
    args: dict


def steps(rubric: Rubric) -> list[Step]:
    """The journey's pages in order; the step navigation and Back/Next follow it."""
    return [Step("about", "Organization", "journey.about", {}),
            Step("drivers", "Drivers", "journey.drivers", {}),
            *[Step(f"dimension:{d.id}", d.title, "journey.dimension", {"dimension_id": d.id})
              for d in rubric.dimensions],
            Step("barriers", "Barriers", "journey.barriers", {}),
            Step("review", "Review", "journey.review", {}),
            Step("results", "Results", "journey.results", {})]


SAVED = "Your answers are saved."
SAVED_PAGE = "saved"  # a flash category: the page saved, for app.js, never shown


def forget_draft() -> None:
    """Tell app.js, on the page the redirect reaches, that this page's input is saved: the draft it
    kept of it is forgotten (``base.html``, docs/web.md *Drafts*)."""
    flash(request.script_root + request.path, SAVED_PAGE)


def _advance(assessment_id: str, rubric: Rubric, key: str):
    """Redirect after a save: to the previous step, the next one, or back to this one.

    Moving on shows that the save worked; "Save" alone stays, so it says so, in the page's
    messages at the top of its main content, where it returns (``#main``, past the site header).
    Either way the page reached tells app.js which page was saved, so that it forgets the input it
    kept in case the save was refused (``base.html``, docs/web.md *Drafts*)."""
    forget_draft()
    journey = steps(rubric)
    index = [s.key for s in journey].index(key)
    offset = {"back": -1, "stay": 0}.get(request.form.get("go"), 1)
    step = journey[min(max(index + offset, 0), len(journey) - 1)]
    anchor = ""
    if offset == 0:
        flash(SAVED)
        anchor = "#main"
    # The URL from the cache of built ones (urls.py): building it was 1% of an answer submission.
    return redirect(urls.url_for(step.endpoint, assessment_id=assessment_id, **step.args) + anchor)


def step_page(template: str, assessment, workspace, rubric: Rubric, key: str, **context):
    progress = records.progress_by_dimension(get_db(), assessment.id)
    answered, total = progress.get(records.OVERALL, (0, 0))
    closed = portfolios.closed_round(get_db(), assessment.id)
    return render_template(template, assessment=assessment, workspace=workspace, rubric=rubric, step=key,
                           answered=answered, total=total, finished=finished_steps(assessment, rubric, progress),
                           can_write=workspace["role"] != "viewer" and closed is None,
                           closed=closed_message(closed) if closed else None, **context)


def finished_steps(assessment, rubric: Rubric, progress: dict[str, tuple[int, int]]) -> frozenset[str]:
    """The steps whose every question is answered: the organization's profile, every driver's
    importance, each dimension's questions. (No barrier is a fine answer: that step is never marked.)"""
    done = {f"dimension:{d}" for d, (answered, total) in progress.items()
            if d != records.OVERALL and total and answered == total}
    if assessment.title and all(f.id in assessment.profile for f in rubric.profile):
        done.add("about")
    if all(d.id in assessment.drivers for d in rubric.drivers):
        done.add("drivers")
    return frozenset(done)


@bp.app_template_global()
def step_nav(assessment_id: str, rubric: Rubric, current: str, finished: frozenset[str] = frozenset()) -> Markup:
    """The journey's step navigation, rendered once per assessment, rubric version, step and the
    steps finished: its fourteen links were a sixth of a results page's time (``journey/_steps.html``)."""
    def render() -> Markup:
        links = [(s.key, s.label, url_for(s.endpoint, assessment_id=assessment_id, **s.args)) for s in steps(rubric)]
        return get_template_attribute("journey/_steps.html", "nav")(links, current, finished)

    key = (request.script_root, assessment_id, rubric.id, rubric.version, current, finished)
    return cache("steps").get_or_make(key, render)


def _rubric_choices() -> list[SelectChoice]:
    return [SelectChoice(f"{r['id']}@{r['version']}", f"{r['id']} {r['version']}") for r in list_rubrics(get_db())]


@bp.route("/w/<int:workspace_id>/assessments/new", methods=["GET", "POST"])
def new(workspace_id: int):
    workspace = workspace_for(workspace_id, write=True)
    form = NewAssessmentForm(rubric="{}@{}".format(*current_app.config["DEFAULT_RUBRIC"]))
    form.rubric.choices = _rubric_choices()
    if form.validate_on_submit():
        rubric = stored_rubric(get_db(), *form.rubric.data.split("@"))
        assessment_id = records.create_assessment(get_db(), workspace_id, rubric, form.title.data,
                                                  organization=form.organization.data or "",
                                                  created_by=g.user["id"])
        forget_draft()
        return redirect(url_for("journey.about", assessment_id=assessment_id))
    return render_template("journey/new.html", form=form, workspace=workspace)


def _edit_step(key: str, template: str, form_class, stored, save, assessment, workspace, rubric, **context):
    """Every editable step: GET fills the form from what is stored (``stored()``); POST validates,
    saves (``save(form)``) and moves on, or shows the errors beside their fields.

    The form carries a stamp of what was stored when it was loaded. If someone else saved the
    page since, nothing is overwritten: the page comes back with this person's input, unsaved,
    says so, and a second save (stamped anew) keeps theirs.
    """
    if request.method != "POST":
        def render() -> str:
            now = stored()
            form = _FormOnDemand(lambda: form_class(formdata=None, data=now))
            return step_page(template, assessment, workspace, rubric, key, form=form, stored=now,
                             loaded=_stamp(now), saved_meanwhile=False, **context)

        return cached_page(_page_key(assessment, workspace, rubric), render)
    refuse_if_closed(assessment, request.script_root + request.path)
    now, saved_meanwhile = stored(), False
    form = form_class()
    if form.validate():
        saved_meanwhile = request.form.get("loaded") not in (None, _stamp(now))  # no stamp: not from our page
        if not saved_meanwhile:
            save(form)
            return _advance(assessment.id, rubric, key)
    return step_page(template, assessment, workspace, rubric, key, form=form, stored=now, loaded=_stamp(now),
                     saved_meanwhile=saved_meanwhile, **context)


def _page_key(assessment, workspace, rubric: Rubric, *more) -> tuple:
    """What a journey page shows besides its URL and viewer (``cached_page``): the assessment's
    content (its token, replaced by every write and when its portfolio round closes), its
    workspace's name, the viewer's role there and the rubric version (a stored one never changes)."""
    return (assessment.id, assessment.content_token, workspace["id"], workspace["name"], workspace["role"],
            rubric.id, rubric.version, *more)


class _FormOnDemand:
    """A page's form filled from what is stored, built when the template first uses it: a dimension
    page whose fieldsets all come from the cache needs none of it, and building one (some thirty
    fields) was a quarter of that page's time."""

    def __init__(self, build):
        self._build, self._form = build, None

    def _built(self):
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name):
        return getattr(self._built(), name)

    def __getitem__(self, name):
        return self._built()[name]

    def __iter__(self):
        return iter(self._built())


def _stamp(stored: dict) -> str:
    return content_digest(stored)[:16]


@bp.get("/a/<assessment_id>/continue")
def resume(assessment_id: str):
    """Where the dashboard's Continue goes: the first dimension with a question unanswered, the
    organization page while nothing is answered, the results once everything is."""
    assessment, _, rubric = assessment_for(assessment_id)
    progress = records.progress_by_dimension(get_db(), assessment.id)
    finished = finished_steps(assessment, rubric, progress)
    if progress.get(records.OVERALL, (0, 0))[0] == 0:
        return redirect(url_for("journey.about", assessment_id=assessment.id))
    step = next((s for s in steps(rubric) if s.key.startswith("dimension:") and s.key not in finished),
                steps(rubric)[-1])
    return redirect(url_for(step.endpoint, assessment_id=assessment.id, **step.args))


@bp.route("/a/<assessment_id>/about", methods=["GET", "POST"])
def about(assessment_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id, write=request.method == "POST")

    def save(form):
        profile = {f.id: form[f.id].data for f in rubric.profile if chosen(form[f.id].data)}
        records.update_assessment(get_db(), assessment, rubric, title=form.title.data,
                                  organization=form.organization.data or "", profile=profile,
                                  opt_in_benchmark=form.opt_in_benchmark.data, by=g.user["id"])

    def stored():
        return {"title": assessment.title, "organization": assessment.organization,
                "opt_in_benchmark": assessment.opt_in_benchmark, **assessment.profile}

    return _edit_step("about", "journey/about.html", about_form(rubric), stored, save, assessment, workspace, rubric)


@bp.route("/a/<assessment_id>/drivers", methods=["GET", "POST"])
def drivers(assessment_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id, write=request.method == "POST")

    def save(form):
        records.update_assessment(get_db(), assessment, rubric, by=g.user["id"],
                                  drivers={d.id: form[d.id].data for d in rubric.drivers})

    return _edit_step("drivers", "journey/drivers.html", drivers_form(rubric), lambda: assessment.drivers, save,
                      assessment, workspace, rubric)


def _answer(data: dict) -> Answer | None:
    """An answer from one question's sub-form; None when no answer was chosen."""
    if chosen(data["value"]) is None:
        return None
    return Answer(normalize_value(data["value"]), (data["note"] or "").strip(), data["basis"] or "self_assessed")


def _answer_data(answer: Answer) -> dict:
    return {"value": str(answer.value), "basis": answer.basis, "note": answer.note}


@bp.route("/a/<assessment_id>/dimensions/<dimension_id>", methods=["GET", "POST"])
def dimension(assessment_id: str, dimension_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id, write=request.method == "POST")
    found = next((d for d in rubric.dimensions if d.id == dimension_id), None)
    if found is None:
        abort(404)

    def save(form):
        answers = {q.id: _answer(form[q.id].data) for q in found.questions}
        targets = {q.id: int(level) if (level := chosen(form[q.id].target.data)) else None for q in found.questions}
        records.save_answers(get_db(), assessment, rubric, answers, targets=targets, by=g.user["id"])

    def stored():
        given = records.answers_to(get_db(), assessment.id, [q.id for q in found.questions])
        return {q.id: {**(_answer_data(given[q.id]) if q.id in given else {}),
                       "target": str(assessment.targets.get(q.id, ""))} for q in found.questions}

    return _edit_step(f"dimension:{dimension_id}", "journey/dimension.html", dimension_form(rubric, found.id),
                      stored, save,
                      assessment, workspace, rubric, dimension=found)


QUESTIONS_CACHED = 4096  # a few KB each


@bp.app_template_global()
def question_markup(rubric: Rubric, question, number: int, sub, can_write: bool) -> Markup:
    """A dimension page's fieldset for one question, rendered once per rubric version, question
    and answer state (``journey/_question.html``).

    Its sixty-odd radio buttons, selects and text areas were most of a dimension page's time,
    and the same few states recur across pages, rounds and assessments: most questions of a
    page being filled in are unanswered. A fieldset showing errors is rendered afresh.
    """
    def render() -> Markup:
        return get_template_attribute("journey/_question.html", "question")(question, number, sub, can_write)

    if sub.errors:
        return render()
    key = (rubric.id, rubric.version, question.id, number, can_write, *(field.data for field in sub))
    return cache("questions", QUESTIONS_CACHED).get_or_make(key, render)


@bp.app_template_global()
def dimension_fieldsets(rubric: Rubric, dimension, form, stored: dict, can_write: bool) -> Markup:
    """Every question's fieldset of a dimension page. A page showing what is stored is cached
    whole, by rubric version, dimension, write access and the stored values, so that a view
    needs neither the form nor the questions' cache; a page showing someone's input (after a
    refused or held save) is assembled from the form."""
    def render() -> Markup:
        return Markup("\n").join(question_markup(rubric, q, number, form[q.id], can_write)
                                  for number, q in enumerate(dimension.questions, 1))

    if request.method == "POST":
        return render()
    state = tuple((qid, tuple(sorted(values.items()))) for qid, values in stored.items())
    return cache("dimensions").get_or_make((rubric.id, rubric.version, dimension.id, can_write, state), render)


@bp.route("/a/<assessment_id>/barriers", methods=["GET", "POST"])
def barriers(assessment_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id, write=request.method == "POST")

    def save(form):
        # A box is ticked or not: a request naming one twice (no browser sends it so) means it once, and
        # a repeat stored would make the JSON export one that the import refuses.
        chosen = list(dict.fromkeys(form.barriers.data))
        records.update_assessment(get_db(), assessment, rubric, barriers=chosen, by=g.user["id"])

    return _edit_step("barriers", "journey/barriers.html", barriers_form(rubric),
                      lambda: {"barriers": assessment.barriers}, save, assessment, workspace, rubric)


@bp.get("/a/<assessment_id>/review")
def review(assessment_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id)

    def render() -> str:
        answers = records.answer_set(get_db(), assessment)
        missing = {d.id: [q for q in d.questions if q.id not in answers.answers] for d in rubric.dimensions}
        return step_page("journey/review.html", assessment, workspace, rubric, "review", missing=missing,
                         answers=answers, labels=BASIS_LABELS)

    return cached_page(_page_key(assessment, workspace, rubric), render)


@bp.get("/a/<assessment_id>/results")
def results(assessment_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id)

    later = later_versions(get_db(), rubric)

    def render() -> str:
        parts = _result_parts(assessment, rubric)
        filters = {key: request.args.get(key, "") for key in FILTERS}
        return step_page("journey/results.html", assessment, workspace, rubric, "results", parts=parts,
                         cohorts=_cohorts(assessment, rubric, parts, filters), filters=filters,
                         profile_fields={f.id: f for f in rubric.profile},
                         round_form=_round_form(rubric, later) if later else None)

    # The cohorts show other assessments: their token changes with any of them. A version uploaded
    # since is a new choice for the next round.
    return cached_page(_page_key(assessment, workspace, rubric, records.cohorts_token(get_db()), *later), render)


class ResultParts(NamedTuple):
    summary: Markup  # index, stage, charts, survey peers
    plan: Markup  # gaps, roadmap, evidence gaps, barriers
    overall: float | None
    dimensions: dict[str, float | None]
    peers: bool  # whether the summary compares with survey peers (the page lists its sections)
    answered: int  # questions answered, not applicable or don't know included: none, and there is nothing to show


def _result_parts(assessment, rubric: Rubric) -> ResultParts:
    """What the results page shows of the assessment alone, scored and rendered once per content.

    Scoring against the peers and rendering these parts is most of the page's time, and a
    results page is viewed far more often than its answers change. The key is the assessment's
    content token, replaced by every write to it or its answers, and the rubric version (a
    stored one never changes): reading and hashing every answer to make a key cost a fifth of
    the page.
    """
    key = (assessment.id, assessment.content_token, rubric.id, rubric.version, request.script_root)  # it has links

    def make() -> ResultParts:
        dataset = peers_for(rubric)
        result = score(rubric, records.answer_set(get_db(), assessment), dataset)
        context = {"assessment": assessment, "rubric": rubric, "result": result, "dataset": dataset,
                   "peer": result.peers.reference if result.peers else None,
                   "stages": {s.id: s for s in rubric.stages}, "horizons": HORIZON_NAMES}
        return ResultParts(_rendered("journey/_results_summary.html", context),
                           _rendered("journey/_results_plan.html", context),
                           result.overall, {d.id: d.score for d in result.dimensions}, result.peers is not None,
                           len(rubric.questions) - len(result.unanswered))

    return cache("results").get_or_make(key, make)


def _rendered(template: str, context: dict) -> Markup:
    return Markup(render_template(template, **context))  # noqa: S704 (an autoescaped template's output)


def _cohorts(assessment, rubric: Rubric, parts: ResultParts, filters: dict) -> list[tuple[str, CohortStats]]:
    """This workspace's cohort and the instance's opted-in one, with this assessment's place.

    The instance's is shown without the viewer's workspaces (cohorts.py says why). The page cache
    keys it by viewer and by the cohorts token, not by the viewer's memberships: a page made
    before one changed shows no more than the viewer could see then."""
    db = get_db()
    mine = accounts.workspace_ids(db, g.user["id"]) | {assessment.workspace_id}
    stats = []
    for label, workspace_id, viewer in (("This workspace", assessment.workspace_id, None),
                                        ("Organizations in other workspaces that opted in", None, mine)):
        key = records.cohort_key(db, assessment.id, instance=workspace_id is None)
        members = records.cohort_members(db, rubric.id, rubric.version, workspace_id)
        own = Member(key, parts.overall, parts.dimensions)
        stats.append((label, cohort_stats(members, own, filters, viewer_workspaces=viewer)))
    return stats


def _round_form(rubric: Rubric, later: list[str]) -> NewRoundForm:
    """The version of a new round: this round's (the default), or a later version of its rubric."""
    form = NewRoundForm(rubric_version=rubric.version)
    form.rubric_version.choices = [(rubric.version, f"{rubric.version}, this round's"), *((v, v) for v in later)]
    return form


ROUND_DATE = re.compile(r" \(round of \d{4}-\d\d-\d\d\)$")  # a round's title ends with it once


@bp.post("/a/<assessment_id>/rounds")
def new_round(assessment_id: str):
    assessment, _, rubric = assessment_for(assessment_id, write=True)
    form = _round_form(rubric, later_versions(get_db(), rubric))
    if not form.validate():  # every version a round may be on is a choice: another was never offered
        abort(400)
    chosen = stored_rubric(get_db(), rubric.id, form.rubric_version.data)
    title = f"{ROUND_DATE.sub('', assessment.title)} (round of {date.today().isoformat()})"
    round_id = records.start_round(get_db(), assessment, chosen, title, g.user["id"])
    flash(_round_started(rubric, chosen))
    return redirect(url_for("journey.about", assessment_id=round_id))


def _round_started(old: Rubric, new: Rubric) -> str:
    if new.version == old.version:
        return "A new round has started with the answers of the previous one. Change what has changed."
    gone = sum(qid not in new.questions for qid in old.questions)
    added = sum(qid not in old.questions for qid in new.questions)
    return (f"A new round has started on rubric {new.version} with the answers of the previous one. "
            f"Questions of {old.version} not in {new.version}: {gone} (their answers stay with the previous "
            f"round); new questions, unanswered: {added}. Change what has changed.")


@bp.get("/a/<assessment_id>/compare")
def compare_rounds(assessment_id: str):
    assessment, workspace, rubric = assessment_for(assessment_id)
    other_id = request.args.get("with") or assessment.parent_id
    if not other_id:
        abort(404)
    before, _, before_rubric = assessment_for(other_id)
    if before.workspace_id != assessment.workspace_id:
        abort(404)
    comparison = compare(before_rubric, rubric, _scored(before, before_rubric), _scored(assessment, rubric))
    return step_page("journey/compare.html", assessment, workspace, rubric, "results", before=before,
                     before_rubric=before_rubric, comparison=comparison)


def _scored(assessment, rubric: Rubric):
    answers = records.answer_set(get_db(), assessment)
    return answers, score(rubric, answers)


@bp.route("/a/<assessment_id>/delete", methods=["GET", "POST"])
def delete(assessment_id: str):
    """GET asks (a page, so that it works without JS); POST deletes. Both only for who may write."""
    assessment, workspace, _ = assessment_for(assessment_id, write=True)
    refuse_if_closed(assessment, url_for("journey.results", assessment_id=assessment.id))
    if asking := ask_first(
            f"Delete “{assessment.title}”?",
            "Its answers, notes and scores are deleted for good. Other rounds keep theirs, "
            "and the workspace's change history keeps its record.",
            "Delete this assessment", url_for("journey.results", assessment_id=assessment.id),
            [(workspace["name"], url_for("workspaces.dashboard", workspace_id=workspace["id"])),
             (assessment.title, url_for("journey.results", assessment_id=assessment.id))]):
        return asking
    records.delete_assessment(get_db(), assessment_id, by=g.user["id"])
    flash(f"“{assessment.title}” is deleted.")
    return redirect(url_for("workspaces.dashboard", workspace_id=assessment.workspace_id))
