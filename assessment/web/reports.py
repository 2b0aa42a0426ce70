"""The PDF report of an assessment: requested here, rendered by the worker, downloaded when ready."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app, flash, g, redirect, url_for

from .. import jobs
from . import get_db
from .access import assessment_for
from .journey import step_page
from .transfer import download

bp = Blueprint("reports", __name__)


def _digest(assessment) -> str:
    return jobs.report_digest(get_db(), assessment)


@bp.get("/a/<assessment_id>/report")
def status(assessment_id: str):
    """Where the report stands: ready to download, rendering (the page refreshes), failed or not asked."""
    assessment, workspace, rubric = assessment_for(assessment_id)
    digest = _digest(assessment)
    ready = jobs.cached_pdf(get_db(), digest) is not None
    job = None if ready else jobs.job_status(get_db(), digest)
    return step_page("journey/report.html", assessment, workspace, rubric, "results", ready=ready, job=job)


@bp.post("/a/<assessment_id>/report")
def request_report(assessment_id: str):
    """Queue the report (viewers may ask too: it changes no answer)."""
    assessment, _, _ = assessment_for(assessment_id)
    digest = _digest(assessment)
    try:
        if jobs.cached_pdf(get_db(), digest) is None:
            jobs.request_report(get_db(), assessment.id, digest, g.user["id"], partial(
                jobs.enqueue, current_app.instance_path, current_app.config["DATABASE"], assessment.id, digest))
    except jobs.TooManyPending as refused:
        flash(str(refused), "error")
    return redirect(url_for("reports.status", assessment_id=assessment_id))


@bp.get("/a/<assessment_id>/report.pdf")
def download_pdf(assessment_id: str):
    """The cached PDF of the assessment as it is now; the status page when it is not ready."""
    assessment, _, _ = assessment_for(assessment_id)
    pdf = jobs.cached_pdf(get_db(), _digest(assessment))
    if pdf is None:
        return redirect(url_for("reports.status", assessment_id=assessment_id))
    return download(pdf, assessment.title, "-report.pdf", "application/pdf")
