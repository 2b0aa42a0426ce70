"""A stored rubric version that links to survey figures a later peer dataset no longer has (one
renamed or removed in a release): its assessments still open, score, export and print, and say so."""

import io
import json

import pytest
import yaml
from pypdf import PdfReader

from assessment import jobs, rubrics
from assessment.paths import RUBRIC_DIR
from assessment.rubric import missing_figures

from .conftest import csv_text, text

GONE = "not in the current peer dataset"


def _forget_loaded_data():
    rubrics.peer_dataset.cache_clear()
    rubrics._parsed.clear()


@pytest.fixture
def renamed_figures(monkeypatch, tmp_path, finished):
    """The shipped dataset as a later release might ship it: a finding and two options renamed. The
    stored rubric version links to all three (a question, a driver and a barrier)."""
    data = yaml.safe_load((RUBRIC_DIR / "peers" / "lf-sovereign-ai-2025.yaml").read_text(encoding="utf-8"))
    for finding in data["findings"]:
        if finding["id"] == "priority.valuable":
            finding["id"] = "priority.value"
        for option in finding["options"]:
            option["option"] = {"Data control": "Control of data", "IP concerns": "Intellectual property"}.get(
                option["option"], option["option"])
    (tmp_path / "peers").mkdir()
    (tmp_path / "peers" / "lf-sovereign-ai-2025.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setattr(rubrics, "PEERS_DIR", tmp_path / "peers")
    _forget_loaded_data()
    yield
    _forget_loaded_data()


MISSING = ["collaboration.barriers / IP concerns", "drivers / Data control", "priority.valuable",
           "priority.valuable / Yes"]


def test_a_stored_version_still_loads_and_names_what_the_dataset_lacks(db, default_rubric, renamed_figures):
    rubric = rubrics.stored_rubric(db, default_rubric.id, default_rubric.version)
    assert missing_figures(rubric, rubrics.peers_for(rubric)) == MISSING
    assert rubrics.versions_missing_figures(db) == [(rubric.id, rubric.version, MISSING)]


def test_an_upload_that_links_to_a_missing_figure_is_still_refused(owner, renamed_figures):
    upload = (RUBRIC_DIR / "sovereign-ai-readiness.yaml").read_text(encoding="utf-8").replace(
        "version: 1.0.1", "version: 1.0.2")
    response = owner.post("/admin/rubrics", data={"file": (io.BytesIO(upload.encode()), "next.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 200 and "no figure &#39;priority.valuable&#39;" in text(response)


@pytest.mark.parametrize("page", ["about", "dimensions/strategy", "review", "results"])
def test_the_assessment_still_opens(owner, finished, renamed_figures, page):
    assert owner.get(f"/a/{finished}/{page}").status_code == 200


def test_the_peer_comparison_says_the_figures_are_gone_and_invents_none(owner, finished, renamed_figures):
    page = text(owner.get(f"/a/{finished}/results"))
    peers = page.split('<h2 id="peers-title">')[1]
    assert peers.count(GONE) >= 3  # the question, the driver and the barrier
    assert "priority.valuable / Yes" in peers and "79%" not in peers  # the figure it no longer has


@pytest.mark.parametrize("export", ["answers.csv", "gaps.csv", "export.json"])
def test_the_exports_still_work(owner, finished, renamed_figures, export):
    response = owner.get(f"/a/{finished}/{export}")
    assert response.status_code == 200
    body = csv_text(response) if export.endswith(".csv") else json.dumps(json.loads(text(response)))
    assert "1.0.1" in body


def test_the_pdf_still_prints_and_says_so(app, owner, finished, renamed_figures):
    owner.post(f"/a/{finished}/report")
    assert jobs.run_pending(app.instance_path) == 1
    response = owner.get(f"/a/{finished}/report.pdf")
    assert response.status_code == 200
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split()
    assert GONE in " ".join(words)


def test_an_administrator_sees_which_version_lacks_which_figures(owner, renamed_figures):
    page = text(owner.get("/admin/rubrics"))
    assert "sovereign-ai-readiness 1.0.1" in page and GONE in page
    assert all(missing in page for missing in MISSING)
