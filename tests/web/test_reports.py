"""The PDF report in the app: queued by the page, rendered by the worker, cached by content."""

import io
import logging
import mmap
import os
import re
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from assessment import backup, jobs, pdf, pdf_text, records
from assessment.answers import Answer, load_answers
from assessment.paths import EXAMPLES
from assessment.report import Report, report_date
from assessment.rubrics import peers_for
from assessment.scoring import score

from .conftest import text


def _status(client, assessment_id):
    return client.get(f"/a/{assessment_id}/report").get_data(as_text=True)


def test_a_report_is_queued_by_the_page_and_rendered_only_by_the_worker(app, owner, finished, db):
    assert "Prepare the PDF report" in _status(owner, finished)
    assert owner.get(f"/a/{finished}/report.pdf").status_code == 302  # not ready: back to the status page
    assert owner.post(f"/a/{finished}/report").status_code == 302
    page = _status(owner, finished)
    assert "The report is queued" in page and '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert 'data-live-every="2" data-live-auto' in page  # app.js updates the status in place instead
    assert db.execute("SELECT count(*) FROM report_files").fetchone()[0] == 0  # nothing rendered in the request
    assert jobs.run_pending(app.instance_path) == 1
    page = _status(owner, finished)
    assert "The report of these answers is ready." in page and "data-live-from" not in page  # app.js stops
    response = owner.get(f"/a/{finished}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith('-report.pdf"')
    text = " ".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
    assert "Nordwind Insurance Group (example)" in text


def test_the_cache_follows_the_content(app, owner, finished, db, default_rubric):
    owner.post(f"/a/{finished}/report")
    jobs.run_pending(app.instance_path)
    owner.post(f"/a/{finished}/report")
    assert jobs.run_pending(app.instance_path) == 0  # cached: nothing to render again
    assessment = records.get_assessment(db, finished)
    records.save_answers(db, assessment, default_rubric, {"data.residency": Answer(4)})
    assert "Prepare the PDF report" in _status(owner, finished)  # changed answers, new report


def test_viewers_may_get_the_report_and_strangers_may_not(app, viewer, outsider, client, finished):
    assert viewer.post(f"/a/{finished}/report").status_code == 302
    assert outsider.get(f"/a/{finished}/report").status_code == 404
    assert outsider.post(f"/a/{finished}/report").status_code == 404
    assert outsider.get(f"/a/{finished}/report.pdf").status_code == 404
    assert client.get(f"/a/{finished}/report.pdf").status_code == 302  # to the log-in page


def test_one_person_cannot_fill_the_render_queue(app, editor, owner, finished, db, people, default_rubric):
    """Found by probing: an editor could create (or import) assessments and ask for each one's PDF,
    a second or more of the worker's CPU each, all ahead of everyone else's in the queue. At most
    three of a person's reports wait at a time; the next is refused with a message."""
    answers = records.answer_set(db, records.get_assessment(db, finished))
    mine = [records.create_assessment(db, people["workspace"], default_rubric, f"Copy {n}", answers=answers)
            for n in range(10)]
    for assessment_id in mine:
        response = editor.post(f"/a/{assessment_id}/report", follow_redirects=True)
    assert _count(db, "report_jobs") == 3
    assert "You have 3 reports waiting to be rendered" in text(response)
    assert "Prepare the PDF report" in text(response)  # nothing queued: the button is still there
    owner.post(f"/a/{finished}/report")
    assert "The report is queued" in _status(owner, finished)  # another person's report is still taken
    jobs.run_pending(app.instance_path)
    editor.post(f"/a/{mine[-1]}/report")  # once those are rendered, the editor may ask again
    assert "The report is queued" in _status(editor, mine[-1])


def test_a_failed_render_says_why_and_can_be_retried(app, owner, finished, monkeypatch):
    def fail(render, seconds=30):
        raise jobs.RenderError("The report took more than 30 seconds and was stopped.")
    monkeypatch.setattr(jobs, "render_limited", fail)
    owner.post(f"/a/{finished}/report")
    jobs.run_pending(app.instance_path)
    page = _status(owner, finished)
    assert "The last attempt failed: The report took more than 30 seconds and was stopped." in page
    assert "Try again" in page
    monkeypatch.undo()
    owner.post(f"/a/{finished}/report")
    assert jobs.run_pending(app.instance_path) == 1
    assert "is ready" in _status(owner, finished)


def _greedy(chunks: int) -> bytes:
    """A render that takes 8 MiB more memory every 10 ms, and says so if it gets through."""
    held = []
    try:
        for _ in range(chunks):
            held.append(b"\x01" * (8 << 20))  # written, so resident
            time.sleep(0.01)
    except MemoryError:
        return b"stopped by the address-space backstop"
    return b"got through"


def test_render_limits_stop_a_slow_or_greedy_render(db, finished, monkeypatch):
    render = partial(pdf.render_pdf, jobs.build_report(db, records.get_assessment(db, finished)))
    with pytest.raises(jobs.RenderError, match="took more than 0.01 seconds and was stopped"):
        jobs.render_limited(render, seconds=0.01)
    monkeypatch.setattr(jobs, "RENDER_MEMORY", 64 << 20)
    with pytest.raises(jobs.RenderError, match="needed more than 64 MiB of memory and was stopped"):
        jobs.render_limited(partial(_greedy, 64))  # stopped near 64 MiB, long before 512
    assert jobs.render_limited(partial(_greedy, 4)) == b"got through"  # 32 MiB is within the limit


def test_the_memory_limit_counts_what_a_render_holds_not_the_address_space_it_inherits(db, finished):
    # A worker's address space holds much it never touches (glibc reserves 64 MiB of arena per
    # thread): under a 1 GiB address-space limit, a render forked from this one failed at once.
    reserved = mmap.mmap(-1, 3 * jobs.RENDER_MEMORY, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=0)  # PROT_NONE: reserved, never touched
    try:
        report = jobs.build_report(db, records.get_assessment(db, finished))
        assert jobs.render_limited(partial(pdf.render_pdf, report)).startswith(b"%PDF")
    finally:
        reserved.close()


def test_renders_run_at_a_lower_cpu_priority_than_the_web_server():
    niceness = jobs.render_limited(lambda: str(os.nice(0)).encode())
    assert int(niceness) == min(os.nice(0) + jobs.RENDER_NICENESS, 19)


def test_the_worker_warms_up_before_it_forks_render_children(monkeypatch, rubric):
    pdf_text._remembered_lines.clear()
    jobs.warm_up()  # what run_worker does first: the children forked later inherit the caches
    assert pdf.stylesheet.cache_info().currsize == 1 and pdf.environment().cache
    broken, split = [], pdf_text._split_first_line

    def split_anew(text, style, context, *rest):
        if pdf_text._line_key(text, style, *rest) is not None:  # not SVG text, which is never remembered
            broken.append(text)
        return split(text, style, context, *rest)

    monkeypatch.setattr(pdf_text, "_split_first_line", split_anew)
    peers = peers_for(rubric)
    for example in ("mid-enterprise", "early-public-agency", "advanced-research-lab"):
        answers = load_answers(EXAMPLES / f"{example}.yaml", rubric)
        pdf.render_pdf(Report(rubric, answers, score(rubric, answers, peers), peers, report_date("0")))
    assert broken == []  # every line of every example remembered


def test_the_worker_logs_weasyprints_warnings_but_not_its_steps(monkeypatch, caplog, tmp_path):
    huey = SimpleNamespace(create_consumer=lambda **options: SimpleNamespace(run=lambda: None))
    monkeypatch.setattr(jobs, "queue", lambda instance: (huey,))
    monkeypatch.setattr(logging.getLogger("weasyprint.progress"), "level", logging.NOTSET)
    caplog.set_level(logging.INFO)
    jobs.run_worker(str(tmp_path), workers=1)  # warms up with a render: some 80 steps at INFO
    assert not [record for record in caplog.records if record.name.startswith("weasyprint")]
    assert logging.getLogger("weasyprint.progress").isEnabledFor(logging.WARNING)


# What a deleted assessment leaves behind: a PDF holds its answers and evidence notes.
SECRET = b"the evidence notes of a deleted assessment"
PDF = b"%PDF " + SECRET * 3000  # overflow pages, as a real PDF's 100 KB or so


@pytest.fixture
def quick_render(monkeypatch):
    """A stand-in for the render: these tests are about what is stored, not what it shows."""
    monkeypatch.setattr(jobs, "render_limited", lambda render, seconds=jobs.RENDER_SECONDS: PDF)


def _render(app, client, assessment_id):
    client.post(f"/a/{assessment_id}/report")
    assert jobs.run_pending(app.instance_path) == 1


def _count(db, table):
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (the tests' own names)


def test_deleting_an_assessment_deletes_its_pdfs_and_report_jobs(app, owner, finished, db, quick_render):
    _render(app, owner, finished)
    assert owner.post(f"/a/{finished}/delete").status_code == 302
    assert _count(db, "report_files") == 0 and _count(db, "report_jobs") == 0


def test_deleting_an_assessment_keeps_the_pdf_of_another_with_the_same_answers(app, owner, finished, db, people,
                                                                              default_rubric, quick_render):
    twin = records.create_assessment(db, people["workspace"], default_rubric, "Twin",
                                     answers=records.answer_set(db, records.get_assessment(db, finished)))
    db.execute("UPDATE assessments SET updated_at = (SELECT updated_at FROM assessments WHERE id = ?)", [finished])
    db.conn.commit()  # the same content and the same date: once the same digest
    _render(app, owner, finished)
    _render(app, owner, twin)
    owner.post(f"/a/{finished}/delete")
    assert owner.get(f"/a/{twin}/report.pdf").data == PDF


def test_a_newer_report_replaces_the_assessments_older_pdf(app, owner, finished, db, default_rubric, quick_render):
    _render(app, owner, finished)
    records.save_answers(db, records.get_assessment(db, finished), default_rubric, {"data.residency": Answer(4)})
    _render(app, owner, finished)
    assert _count(db, "report_files") == 1 and _count(db, "report_jobs") == 1
    assert owner.get(f"/a/{finished}/report.pdf").status_code == 200  # the one kept is the newer


def test_a_render_finished_after_its_assessment_was_deleted_is_not_stored(app, owner, finished, db, monkeypatch):
    def render_while_deleted(render, seconds=jobs.RENDER_SECONDS):
        records.delete_assessment(db, finished)
        return PDF
    monkeypatch.setattr(jobs, "render_limited", render_while_deleted)
    _render(app, owner, finished)
    assert _count(db, "report_files") == 0


def test_deleting_a_workspace_deletes_its_pdfs(app, owner, finished, db, people, quick_render):
    """Its assessments' jobs cascade, and the PDFs follow."""
    _render(app, owner, finished)
    assert owner.post(f"/w/{people['workspace']}/delete", data={"name": "Acme Public Agency"}).status_code == 302
    assert _count(db, "report_files") == 0


def test_a_backup_after_the_deletion_holds_no_trace_of_the_pdf(app, owner, finished, db, tmp_path, quick_render):
    """SQLite keeps deleted rows' bytes in free pages, which its backup API copies, unless told
    to overwrite them (``secure_delete``)."""
    _render(app, owner, finished)
    owner.post(f"/a/{finished}/delete")
    backup.backup(Path(app.config["DATABASE"]), tmp_path / "after.db")
    assert SECRET not in (tmp_path / "after.db").read_bytes()


def test_scores_read_the_same_on_the_results_page_the_dashboard_and_the_pdf(owner, finished, people, db):
    """The PDF gave 45.3 for the index and 51.8 for a dimension that the page and dashboard gave as
    45 and 52, and its own bar chart as 52 beside its table's 51.8."""
    pdf_html = pdf.render_html(jobs.build_report(db, records.get_assessment(db, finished)))
    page = text(owner.get(f"/a/{finished}/results"))
    dashboard = text(owner.get(f"/w/{people['workspace']}"))
    assert '<span class="index">45.3</span>' in pdf_html and '<span class="number">45.3</span>' in page
    assert re.search(r"<td>45\.3</td>\s*<td>Developing</td>", dashboard)
    for html in (pdf_html, page):
        assert re.search(r'<th scope="row">Strategy and priority</th>\s*<td[^>]*>51\.8</td>', html)
        assert re.search(r'fill="#1b1f24">51\.8</text>', html)  # the bar's label


def test_priorities_read_the_same_on_the_results_page_and_in_the_pdf(owner, finished, db, default_rubric):
    """A table stake of weight 3, three levels short, its drivers not relevant: 3 × 3 × 0.5 × 1.5 = 6.75,
    which the PDF wrote 6.8."""
    assessment = records.get_assessment(db, finished)
    records.update_assessment(db, assessment, default_rubric, drivers=dict.fromkeys(assessment.drivers, "not_relevant"))
    records.save_answers(db, records.get_assessment(db, finished), default_rubric, {"strategy.mandate": Answer(0)})
    pdf_html = pdf.render_html(jobs.build_report(db, records.get_assessment(db, finished)))
    page = text(owner.get(f"/a/{finished}/results"))
    shown = re.findall(r"<tr>\s*<td>([\d.]+)</td>", page.split('class="gaps"')[1])
    assert sorted(shown) == sorted(re.findall(r"priority ([\d.]+):", pdf_html)) and "6.75" in shown


def test_the_pdf_of_an_empty_assessment_says_nothing_is_answered(db, empty):
    report = pdf.render_html(jobs.build_report(db, records.get_assessment(db, empty)))
    assert "No gaps yet: no question is answered." in report and "every answered question" not in report
