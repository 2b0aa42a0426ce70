"""Portfolio pages: the owner's dashboard, invitations, rounds and exports; agencies' join and cohort view.

Only owners of the workspace that owns a portfolio reach its pages (others get 404 or 403, as for
any workspace). The owner reads an agency's results through the portfolio, read-only: the owner
never becomes a member of the agency's workspace, so cannot change its answers.
"""

from __future__ import annotations

import json
from functools import partial

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from .. import accounts, jobs, portfolios, records
from ..cohorts import Member, cohort_stats
from ..portfolio_report import peer_reference, portfolio_csv, portfolio_document
from ..portfolio_stats import SORT_KEYS, agency_page, choices, filter_rows, paginate, search
from ..rubrics import list_rubrics, peers_for, stored_rubric
from ..scoring import score
from ..textreport import HORIZON_NAMES
from . import get_db, security_log
from .access import listed, workspace_for
from .auth import log_in
from .contentcache import cache
from .forms import AccountForm, ActionForm
from .portfolio_forms import AgencyForm, AgencyUploadForm, PortfolioForm, RoundForm
from .transfer import download

bp = Blueprint("portfolios", __name__)
FILTER_KEYS = ("type", "size")
# A round's summary over one filter: that of 1,000 agencies is a few MB, and every page, sort and
# search of its dashboard shares it.
SUMMARIES_CACHED = 8
# Each finished agency's gaps and linked scores, by its assessment's content token: a new summary
# (after any agency's change) scores only the agencies that changed. Some KB each.
AGENCY_FIGURES_CACHED = 4096


def portfolio_for(portfolio_id: int) -> tuple[dict, dict, object]:
    """The portfolio, its owning workspace and its pinned rubric: 404 for non-members, 403 for non-owners."""
    portfolio = portfolios.get_portfolio(get_db(), portfolio_id)
    if portfolio is None:
        abort(404)
    workspace = workspace_for(portfolio["workspace_id"], manage=True)
    return portfolio, workspace, stored_rubric(get_db(), portfolio["rubric_id"], portfolio["rubric_version"])


@bp.get("/w/<int:workspace_id>/portfolios")
def index(workspace_id: int):
    workspace = workspace_for(workspace_id, manage=True)
    return render_template("portfolios/index.html", workspace=workspace,
                           portfolios=portfolios.portfolios_in(get_db(), workspace_id))


@bp.route("/w/<int:workspace_id>/portfolios/new", methods=["GET", "POST"])
def new(workspace_id: int):
    workspace = workspace_for(workspace_id, manage=True)
    form = PortfolioForm()
    form.rubric.choices = [(f"{r['id']}@{r['version']}", f"{r['id']} {r['version']}") for r in list_rubrics(get_db())]
    if form.validate_on_submit():
        rubric = stored_rubric(get_db(), *form.rubric.data.split("@"))
        portfolio_id = portfolios.create_portfolio(get_db(), workspace_id, form.name.data, rubric, form.round.data,
                                                   g.user["id"])
        return redirect(url_for("portfolios.agencies", portfolio_id=portfolio_id))
    return render_template("portfolios/new.html", workspace=workspace, form=form)


def _filters() -> dict[str, str]:
    """The type and size filters given (?type=, ?size=), without the empty ones: links pass them on as they are."""
    return {key: value for key in FILTER_KEYS if (value := request.args.get(key, ""))}


def _round(portfolio_id: int) -> dict:
    """The round asked for by ?round=, else the current one."""
    all_rounds = portfolios.rounds(get_db(), portfolio_id)
    wanted = request.args.get("round", type=int)
    return next((r for r in all_rounds if r["id"] == wanted), all_rounds[0])


@bp.get("/portfolios/<int:portfolio_id>")
def dashboard(portfolio_id: int):
    return _dashboard_page(*portfolio_for(portfolio_id), RoundForm(formdata=None))


def _table() -> dict[str, str]:
    """How the agency table is searched (?q=) and sorted (?sort=, ?order=desc), as given and valid:
    its page links pass them on, and the filter form keeps them."""
    sort = request.args.get("sort", "")
    table = {"q": request.args.get("q", "").strip(), "sort": sort if sort in SORT_KEYS else "",
             "order": "desc" if request.args.get("order") == "desc" else ""}
    return {key: value for key, value in table.items() if value}


def _dashboard_page(portfolio, workspace, rubric, round_form):
    """The dashboard of the round and filters asked for, with ``round_form`` (and its errors) at the bottom."""
    chosen = _round(portfolio["id"])
    everyone = portfolios.round_rows(get_db(), portfolio["id"], chosen["id"])
    summary = _summary(portfolio["id"], rubric, chosen["id"])
    table = _table()
    page = agency_page(summary, table.get("q", ""), table.get("sort", "name"), "order" in table,
                       request.args.get("page", 1, type=int))
    return render_template("portfolios/dashboard.html", portfolio=portfolio, workspace=workspace, rubric=rubric,
                           round=chosen, rounds=portfolios.rounds(get_db(), portfolio["id"]), summary=summary,
                           reference=peer_reference(rubric), filters=_filters(), round_form=round_form,
                           options={key: choices(everyone, key) for key in FILTER_KEYS}, table=table, page=page)


def _summary(portfolio_id: int, rubric, round_id: int):
    """The round's summary over the dashboard's filters, kept under the digest of what it follows from
    (the PDF's, read from change tokens): each page, sort or search of the dashboard of a 1,000-agency
    round scored every agency again, for 0.7 s."""
    make = partial(portfolios.summary, get_db(), portfolio_id, rubric, round_id, _filters(),
                   cache("portfolio agency figures", AGENCY_FIGURES_CACHED))
    digest = _report_digest(portfolio_id, round_id)
    return make() if digest is None else cache("portfolio summaries", SUMMARIES_CACHED).get_or_make(digest, make)


def _agencies_page(portfolio, workspace, invited=(), problems=(), **forms):
    """The invitation forms and a page of the agencies invited, by name, searched by ?q=."""
    forms = {"form": AgencyForm(formdata=None), "upload": AgencyUploadForm(formdata=None), **forms}
    rows = portfolios.round_rows(get_db(), portfolio["id"], portfolios.rounds(get_db(), portfolio["id"])[0]["id"])
    words = request.args.get("q", "").strip()
    found = search(rows, words)
    shown, number, pages = paginate(found, request.args.get("page", 1, type=int))
    return render_template("portfolios/agencies.html", portfolio=portfolio, workspace=workspace, rows=shown,
                           page=number, pages=pages, matching=len(found), everyone=len(rows), words=words,
                           links=portfolios.pending_links(get_db(), portfolio["id"]), action=ActionForm(),
                           invited=invited, problems=problems, **forms)


@bp.get("/portfolios/<int:portfolio_id>/agencies")
def agencies(portfolio_id: int):
    portfolio, workspace, _ = portfolio_for(portfolio_id)
    return _agencies_page(portfolio, workspace)


def _invite(portfolio, workspace, rows, refused):
    """Invite the rows (all or none) and show their one-time links, on this response only; if any is
    refused, the page that ``refused(problems)`` makes instead."""
    try:
        invited = portfolios.invite_agencies(get_db(), portfolio["id"], rows, by=g.user["id"],
                                             days=current_app.config["AGENCY_LINK_DAYS"])
    except portfolios.AgencyRowsError as error:
        return refused(error.problems)
    return _agencies_page(portfolio, workspace, invited=_links(invited))


def _links(invited) -> list[tuple[str, str]]:
    return [(i.name, url_for("portfolios.join", token=i.token, _external=True)) for i in invited]


@bp.post("/portfolios/<int:portfolio_id>/agencies")
def invite_one(portfolio_id: int):
    portfolio, workspace, _ = portfolio_for(portfolio_id)
    form = AgencyForm()
    if not form.validate():
        return _agencies_page(portfolio, workspace, form=form)
    row = {key: (form[key].data or "").strip() for key in portfolios.CSV_COLUMNS}

    def refused(problems):  # the one agency's name is taken: said beside it, with what was typed kept
        form.name.errors.extend(message for _, message in problems)
        return _agencies_page(portfolio, workspace, form=form)

    return _invite(portfolio, workspace, [(0, row)], refused)


@bp.post("/portfolios/<int:portfolio_id>/agencies/<int:agency_id>/link")
def new_link(portfolio_id: int, agency_id: int):
    """A fresh link for an agency that has not joined, shown once; its earlier link stops working."""
    portfolio, workspace, _ = portfolio_for(portfolio_id)
    invited = portfolios.renew_link(get_db(), portfolio_id, agency_id, by=g.user["id"],
                                    days=current_app.config["AGENCY_LINK_DAYS"])
    if invited is None:  # joined, or no agency of this portfolio
        abort(404)
    return _agencies_page(portfolio, workspace, invited=_links([invited]))


@bp.post("/portfolios/<int:portfolio_id>/agencies/upload")
def invite_csv(portfolio_id: int):
    portfolio, workspace, _ = portfolio_for(portfolio_id)
    upload = AgencyUploadForm()
    if not upload.validate():
        return _agencies_page(portfolio, workspace, upload=upload)

    def refused(problems):  # listed with the file field, which they are tied to
        return _agencies_page(portfolio, workspace, problems=problems, upload=upload)

    try:
        rows = portfolios.parse_agencies_csv(portfolios.decode_agencies_file(upload.file.data.read()))
    except portfolios.AgencyRowsError as error:
        return refused(error.problems)
    return _invite(portfolio, workspace, rows, refused)


@bp.post("/portfolios/<int:portfolio_id>/rounds")
def open_round(portfolio_id: int):
    """Open the next round; a refused name is shown beside the field, as typed, on the dashboard."""
    portfolio, workspace, rubric = portfolio_for(portfolio_id)
    form = RoundForm()
    if not form.validate():
        return _dashboard_page(portfolio, workspace, rubric, form)
    try:
        portfolios.open_round(get_db(), portfolio_id, rubric, form.name.data, g.user["id"])
    except ValueError as error:
        form.name.errors.append(str(error))
        return _dashboard_page(portfolio, workspace, rubric, form)
    flash(f"Round {form.name.data} is open: each agency continues from its previous answers.")
    return redirect(url_for("portfolios.dashboard", portfolio_id=portfolio_id))


@bp.get("/portfolios/<int:portfolio_id>/agencies/<int:agency_id>")
def agency(portfolio_id: int, agency_id: int):
    """One agency's results, read-only for the portfolio's owner."""
    portfolio, workspace, rubric = portfolio_for(portfolio_id)
    chosen = _round(portfolio_id)
    assessment_id = portfolios.agency_assessment(get_db(), portfolio_id, agency_id, chosen["id"])
    if assessment_id is None:
        abort(404)
    assessment = records.get_assessment(get_db(), assessment_id)
    result = score(rubric, records.answer_set(get_db(), assessment), peers_for(rubric))
    return render_template("portfolios/agency.html", portfolio=portfolio, workspace=workspace, rubric=rubric,
                           round=chosen, assessment=assessment, result=result, horizons=HORIZON_NAMES,
                           reference=result.peers.reference if result.peers else None)


def _export_rows(portfolio_id: int):
    """The round asked for and its agencies matching the filters, as on the dashboard."""
    chosen = _round(portfolio_id)
    return chosen, filter_rows(portfolios.round_rows(get_db(), portfolio_id, chosen["id"]), _filters())


def _file_title(portfolio: dict, chosen: dict) -> str:
    """An export's title: the portfolio and the round, so that two rounds exported on one day differ.
    download keeps a title's first 60 characters: a long portfolio name is cut so that the round's fits."""
    return f"{portfolio['name'][:40]} {chosen['name']}"


@bp.get("/portfolios/<int:portfolio_id>/export.csv")
def export_csv(portfolio_id: int):
    portfolio, _, rubric = portfolio_for(portfolio_id)
    chosen, rows = _export_rows(portfolio_id)
    progress = portfolios.dimension_progress(get_db(), chosen["id"])
    return download(portfolio_csv(rows, chosen["name"], rubric, progress), _file_title(portfolio, chosen), ".csv",
                    "text/csv")


@bp.get("/portfolios/<int:portfolio_id>/export.json")
def export_json(portfolio_id: int):
    portfolio, _, _ = portfolio_for(portfolio_id)
    chosen, rows = _export_rows(portfolio_id)
    document = portfolio_document(portfolio, chosen["name"], rows, _filters())
    return download(json.dumps(document, indent=2, ensure_ascii=False) + "\n", _file_title(portfolio, chosen),
                    ".json", "application/json")


# The PDF: a 1,000-agency portfolio takes seconds to render, so the worker renders it, as it
# does assessment reports (assessment/jobs.py), cached under the digest of its figures. Like
# the CSV and the JSON it follows the dashboard's filters, each filter a PDF of its own.

def _report_digest(portfolio_id: int, round_id: int) -> str:
    return jobs.portfolio_digest(get_db(), portfolio_id, round_id, _filters())


def _unknown_filters(portfolio_id: int, chosen: dict) -> str:
    """The first filter whose value no agency of the round has ("type = x"), else "". Each filter
    keeps a PDF of its own, so values typed into the address would otherwise store one each."""
    everyone = portfolios.round_rows(get_db(), portfolio_id, chosen["id"])
    return next((f"{key} = {value}" for key, value in _filters().items() if value not in choices(everyone, key)), "")


def _report_page(portfolio_id: int, chosen: dict):
    """Back to the status page of this round's report with these filters."""
    return redirect(url_for("portfolios.report", portfolio_id=portfolio_id, round=chosen["id"], **_filters()))


@bp.get("/portfolios/<int:portfolio_id>/report")
def report(portfolio_id: int):
    """Where the round's PDF stands: ready, rendering (the page refreshes), failed or not asked."""
    portfolio, workspace, _ = portfolio_for(portfolio_id)
    chosen = _round(portfolio_id)
    digest = _report_digest(portfolio_id, chosen["id"])
    ready = jobs.cached_pdf(get_db(), digest) is not None
    job = None if ready else jobs.job_status(get_db(), digest)
    return render_template("portfolios/report.html", portfolio=portfolio, workspace=workspace, round=chosen,
                           ready=ready, job=job, filters=_filters())


@bp.post("/portfolios/<int:portfolio_id>/report")
def request_report(portfolio_id: int):
    portfolio_for(portfolio_id)
    chosen = _round(portfolio_id)
    if unknown := _unknown_filters(portfolio_id, chosen):
        flash(f"No agency of this round has {unknown}: no PDF is prepared for it.", "error")
        return _report_page(portfolio_id, chosen)
    digest = _report_digest(portfolio_id, chosen["id"])
    try:
        if jobs.cached_pdf(get_db(), digest) is None:
            jobs.request_portfolio_report(get_db(), portfolio_id, chosen["id"], digest, g.user["id"], _filters(),
                                          partial(jobs.enqueue_portfolio, current_app.instance_path,
                                                  current_app.config["DATABASE"], portfolio_id, chosen["id"],
                                                  digest, _filters()))
    except jobs.TooManyPending as refused:
        flash(str(refused), "error")
    return _report_page(portfolio_id, chosen)


@bp.get("/portfolios/<int:portfolio_id>/report.pdf")
def export_pdf(portfolio_id: int):
    """The round's cached PDF as the figures are now; the status page when it is not ready."""
    portfolio, _, _ = portfolio_for(portfolio_id)
    chosen = _round(portfolio_id)
    pdf = jobs.cached_pdf(get_db(), _report_digest(portfolio_id, chosen["id"]))
    if pdf is None:
        return _report_page(portfolio_id, chosen)
    return download(pdf, _file_title(portfolio, chosen), "-portfolio.pdf", "application/pdf")


# Agencies ----------------------------------------------------------------------------------

@bp.route("/portfolio-invite/<token>", methods=["GET", "POST"])
def join(token: str):
    """Accept an agency's invitation: as the logged-in user, or with a new account."""
    found = portfolios.invitation(get_db(), token)
    if found is None:
        abort(404)
    if found["expired"]:
        return render_template("portfolios/link_expired.html", agency=found), 410
    form = ActionForm() if g.user else AccountForm()
    if form.validate_on_submit():
        try:
            assessment_id = _join(token, form, found)
        except accounts.NoNewAccount as error:  # beside the field, as the workspace invitation does
            security_log.event("agency-account-refused", agency=found["id"])
            form.email.errors.append(str(error))
        except ValueError as error:
            flash(str(error), "error")
        else:
            flash(f"{found['name']} has joined {found['portfolio']}. Your assessment is ready.")
            return redirect(url_for("journey.about", assessment_id=assessment_id))
    return render_template("portfolios/join.html", agency=found, form=form, token=token,
                           no_new_account=str(accounts.NoNewAccount()))


def _join(token: str, form, found: dict) -> str:
    portfolio = portfolios.get_portfolio(get_db(), found["portfolio_id"])
    rubric = stored_rubric(get_db(), portfolio["rubric_id"], portfolio["rubric_version"])
    if g.user:
        return portfolios.join(get_db(), token, g.user["id"], rubric)[1]
    user_id, _, assessment_id = portfolios.register_and_join(get_db(), token, form.email.data, form.name.data,
                                                             form.password.data, rubric)
    log_in(user_id, "account-created")
    return assessment_id


@bp.get("/w/<int:workspace_id>/portfolio")
def mine(workspace_id: int):
    """An agency's view: its own assessment per portfolio, and the other agencies' anonymised distribution.

    Left out are the agency itself and every agency whose workspace the viewer belongs to: with
    them in, changing one's own answers moved the quartiles and gave away the others' exact scores."""
    workspace = workspace_for(workspace_id)
    viewer = accounts.workspace_ids(get_db(), g.user["id"]) | {workspace_id}
    views = []
    for agency in portfolios.agencies_of_workspace(get_db(), workspace_id):
        current = portfolios.rounds(get_db(), agency["portfolio_id"])[0]
        rubric = stored_rubric(get_db(), agency["rubric_id"], agency["rubric_version"])
        others = cohort_stats(portfolios.cohort_members(get_db(), agency["portfolio_id"]),
                              Member(str(agency["id"]), None, {}), viewer_workspaces=viewer)
        views.append((agency, current, rubric,
                      portfolios.agency_assessment(get_db(), agency["portfolio_id"], agency["id"], current["id"]),
                      others))
    return render_template("portfolios/mine.html", workspace=workspace, views=views)


@bp.post("/w/<int:workspace_id>/portfolio/<int:agency_id>/assessment")
def start_again(workspace_id: int, agency_id: int):
    """Start this round's assessment again for an agency that deleted it (else it was out of the
    portfolio for good: a new round continues only the assessments of the previous one)."""
    workspace_for(workspace_id, write=True)
    agency = listed(portfolios.agencies_of_workspace(get_db(), workspace_id), agency_id)
    rubric = stored_rubric(get_db(), agency["rubric_id"], agency["rubric_version"])
    assessment_id = portfolios.ensure_assessment(get_db(), agency, rubric, g.user["id"])
    flash(f"{agency['name']} takes part in this round of {agency['portfolio']} again.")
    return redirect(url_for("journey.about", assessment_id=assessment_id))
