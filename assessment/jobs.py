"""PDF reports rendered by a background worker and cached by the content they are made from.

A PDF takes most of a second of CPU (a 1,000-agency portfolio several seconds), so it never
renders inside a web request: the request queues a job (Huey, with its queue in SQLite beside
the database) and a worker process renders it, in a child process limited to RENDER_SECONDS and
RENDER_MEMORY. The PDF is stored under the digest of its inputs, so an unchanged assessment or
portfolio round is rendered once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import inspect
import json
import logging
import os
import resource
import select
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path

import sqlite_utils
from huey import SqliteHuey
from huey.api import TaskWrapper

from . import __version__, portfolio_report, portfolios, records, storage, workshops
from .answers import load_answers
from .exports import answers_document, content_digest
from .paths import DEFAULT_RUBRIC, EXAMPLES, TEMPLATES
from .pdf import STATIC, render_pdf
from .portfolio_stats import filter_rows
from .report import Report, report_date
from .rubric import load_rubric
from .rubrics import peers_for, stored_rubric
from .scoring import score

RENDER_SECONDS = 30
# The memory a render may take beyond what its child inherits from the worker (resident, as
# the worker reads it every MEMORY_CHECK_SECONDS). Not an address-space limit: a worker's
# address space holds much it never touches (glibc reserves 64 MiB of arena per thread), so
# such a limit left a render less room the more threads its parent had run.
RENDER_MEMORY = 1 << 30
MEMORY_CHECK_SECONDS = 0.02
# Renders yield the CPU to the web server's workers: a PDF can wait a moment, a page should not.
RENDER_NICENESS = 10
# The queue is first come, first served: at most this many of one person's reports wait at a
# time, or one editor could queue hundreds ahead of everyone else's. A lost job no longer counts.
PENDING_PER_PERSON = 3
# A job not taken by the worker within QUEUE_PATIENCE of being asked for, or not finished within
# it of being taken, was lost: no worker runs, the queue file (tasks.db) was replaced, or the
# worker could not record the end (a full disk). Two workers take some 70 reports a minute and a
# render is stopped after RENDER_SECONDS, so a live queue is far quicker. A job whose worker
# process is gone (killed, the machine restarted) is lost at once. A lost job's page says so and
# offers to ask again (job_status).
QUEUE_PATIENCE = timedelta(minutes=5)
WORKER_GONE = ("The PDF worker stopped while it rendered this report (it was stopped or restarted, or ran out "
               "of memory).")


class RenderError(RuntimeError):
    """A render that failed or was stopped; the message is shown to the user."""


class TooManyPending(RuntimeError):
    """The person already has PENDING_PER_PERSON reports waiting; the message is shown to them."""

    def __init__(self):
        super().__init__(f"You have {PENDING_PER_PERSON} reports waiting to be rendered. Ask for this one again "
                         "once one of them is ready: each takes a few seconds.")


@lru_cache(maxsize=1)
def renderer_version() -> str:
    """Changes whenever the report's templates or stylesheet change, so cached PDFs follow."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*(TEMPLATES / "report").glob("*"), *(TEMPLATES / "charts").glob("*"),
                        TEMPLATES / "portfolios" / "_macros.html", STATIC / "report.css"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def report_digest(db: sqlite_utils.Database, assessment: records.Assessment) -> str:
    """The digest of everything the assessment's PDF is made from."""
    rubric_sha = _rubric_sha(db, assessment.rubric_id, assessment.rubric_version)
    rubric = stored_rubric(db, assessment.rubric_id, assessment.rubric_version)
    # The workshop section changes as participants answer, while the assessment's answers do not.
    workshop = workshops.summary(db, assessment.id, rubric)
    # Its id too: no two assessments share a PDF, so deleting one deletes its PDFs and no one else's.
    content = {"assessment": assessment.id, "answers": answers_document(records.answer_set(db, assessment)),
               "rubric": rubric_sha,
               "date": assessment.updated_at, "renderer": renderer_version(),
               "workshop": dataclasses.asdict(workshop) if workshop else None}
    return content_digest(content)


def build_report(db: sqlite_utils.Database, assessment: records.Assessment) -> Report:
    """The report of a stored assessment, dated by its last change (so its digest is stable)."""
    rubric = stored_rubric(db, assessment.rubric_id, assessment.rubric_version)
    peers = peers_for(rubric)
    answers = records.answer_set(db, assessment)
    return Report(rubric, answers, score(rubric, answers, peers), peers, datetime.fromisoformat(assessment.updated_at),
                  workshops.summary(db, assessment.id, rubric))


def portfolio_inputs(db: sqlite_utils.Database, portfolio_id: int, round_id: int,
                     filters: dict[str, str] | None = None) -> dict | None:
    """What a portfolio round's PDF is made from (portfolio_report.render_pdf's arguments), over the
    agencies matching ``filters`` (type, size) as on the dashboard, or None if the portfolio or the
    round no longer exists."""
    portfolio = portfolios.get_portfolio(db, portfolio_id)
    chosen = next((r for r in portfolios.rounds(db, portfolio_id) if r["id"] == round_id), None)
    if portfolio is None or chosen is None:
        return None
    rubric = stored_rubric(db, portfolio["rubric_id"], portfolio["rubric_version"])
    # Read in run_portfolio_job's snapshot, which cannot write: the figures it scores are not kept.
    summary = portfolios.summary(db, portfolio_id, rubric, round_id, filters, keep=False)
    # A filtered report says how many of the round's agencies it shows: a part is not the whole.
    everyone = len(portfolios.round_rows(db, portfolio_id, round_id)) if filters else len(summary.rows)
    return {"portfolio": portfolio, "round_name": chosen["name"], "rubric": rubric, "summary": summary,
            "reference": portfolio_report.peer_reference(rubric), "filters": dict(filters or {}),
            "round_agencies": everyone, "deleted_after_closing": chosen["deleted_after_closing"]}


def portfolio_digest(db: sqlite_utils.Database, portfolio_id: int, round_id: int,
                     filters: dict[str, str] | None = None) -> str | None:
    """The digest of a portfolio round's PDF over ``filters``, or None if the portfolio or the round
    no longer exists. Read from change tokens, without scoring anyone: the status page asks for it
    every 2 s while a PDF renders. The round and the filters are in it (no other round or filter
    shares its PDF, as with assessments, even with the same figures), with every agency it shows,
    those of the previous round (the changes), the rubric's text, the survey peers and the renderer."""
    portfolio = portfolios.get_portfolio(db, portfolio_id)
    all_rounds = portfolios.rounds(db, portfolio_id)
    chosen = next((r for r in all_rounds if r["id"] == round_id), None)
    if portfolio is None or chosen is None:
        return None
    previous = next((r for r in all_rounds if r["id"] < round_id), None)  # latest first
    filters = dict(filters or {})
    rows = portfolios.round_rows(db, portfolio_id, round_id)
    before = portfolios.round_rows(db, portfolio_id, previous["id"]) if previous else []
    peers = peers_for(stored_rubric(db, portfolio["rubric_id"], portfolio["rubric_version"]))
    content = {"subject": "portfolio", "round": chosen, "filters": filters, "round_agencies": len(rows),
               "portfolio": [portfolio[key] for key in ("id", "name", "peers", "rubric_id", "rubric_version")],
               "rubric": _rubric_sha(db, portfolio["rubric_id"], portfolio["rubric_version"]),
               "peers": [peers.id, peers.version] if peers else None,
               "agencies": _agency_tokens(filter_rows(rows, filters)),
               "previous": _agency_tokens(filter_rows(before, filters)), "renderer": renderer_version()}
    return content_digest(content)


def _agency_tokens(rows: list[dict]) -> list:
    """What the PDF shows of each agency, or follows from: its scores, gaps and progress follow from
    its answers and targets, which replace the assessment's content token at every write."""
    return [[row["id"], row["name"], row["type"], row["size"], bool(row["joined_at"]), row["assessment_id"],
             row["content_token"]] for row in rows]


def _rubric_sha(db: sqlite_utils.Database, rubric_id: str, version: str) -> str:
    return db.execute("SELECT sha256 FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]).fetchone()[0]


# Rendering under limits --------------------------------------------------------------------
# A plain os.fork rather than multiprocessing: Huey's worker processes are daemonic, and
# multiprocessing refuses children there. The child inherits the worker's warm state (parsed
# stylesheet, fonts, calibrated peer model) and reports back through a pipe: b"P" and the PDF,
# or b"E" and a message.

def warm_up() -> None:
    """Render the bundled examples in this process, before children are forked.

    Whatever a render child learns (compiled templates, the parsed stylesheet and fonts, cffi's
    parsed C types, the lines it breaks) dies with it, so a worker that never rendered itself hands
    every child a cold start: about 0.1 s (6%) more CPU per report, measured alternating cold and
    warmed workers. The lines of the three examples (the rubric's questions and levels, the
    methodology, the headings: pdf_text remembers them) are found again in any other report: a
    report of other answers breaks 15% of its lines anew after the three, 27% after the
    mid-maturity one alone (6% fewer instructions per render). The examples are our own content,
    so rendering them outside the limits is safe.
    """
    rubric = load_rubric(DEFAULT_RUBRIC)
    peers = peers_for(rubric)
    for example in sorted(EXAMPLES.glob("*.yaml")):
        answers = load_answers(example, rubric)
        render_pdf(Report(rubric, answers, score(rubric, answers, peers), peers, report_date("0")))


def _memory_message() -> str:
    return f"The report needed more than {RENDER_MEMORY >> 20} MiB of memory and was stopped."


def _statm(pid: int | str, field: int) -> int | None:
    """A field of /proc/PID/statm in bytes (0: address space, 1: resident), None where there is none."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[field]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def _render_child(render: Callable[[], bytes], pipe: int) -> None:
    try:
        # A backstop for an allocation too quick for the worker's check of the resident memory.
        ceiling = (_statm("self", 0) or 0) + 2 * RENDER_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        os.nice(RENDER_NICENESS)
        message = b"P" + render()
    # Under the address-space limit an allocation can fail inside C code (Pango, cffi) that then
    # returns an error without setting one, which Python raises as SystemError.
    except (MemoryError, SystemError):
        message = f"E {_memory_message()}".encode()
    except Exception as error:  # noqa: BLE001 (any failure becomes the job's message)
        message = f"E The report could not be rendered ({type(error).__name__}: {error}).".encode()
    with os.fdopen(pipe, "wb") as out:
        out.write(message)


def _memory_check(pid: int, inherited: int | None) -> Callable[[], None]:
    """A check that raises RenderError once the child ``pid`` holds RENDER_MEMORY more than ``inherited``."""
    def check() -> None:
        resident = _statm(pid, 1)
        if inherited is not None and resident is not None and resident - inherited > RENDER_MEMORY:
            raise RenderError(_memory_message())
    return check


def _read_until(pipe: int, deadline: float, check: Callable[[], None]) -> bytes | None:
    """Everything the child writes until it closes the pipe, or None at the deadline; ``check``
    runs whenever the child has been quiet for MEMORY_CHECK_SECONDS."""
    chunks = []
    with os.fdopen(pipe, "rb", buffering=0) as source:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not select.select([source], [], [], min(remaining, MEMORY_CHECK_SECONDS))[0]:
                check()
                continue
            chunk = source.read(1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def render_limited(render: Callable[[], bytes], seconds: float = RENDER_SECONDS) -> bytes:
    """Run ``render`` in a forked child limited to ``seconds`` and RENDER_MEMORY; RenderError says why not."""
    read_end, write_end = os.pipe()
    # Frozen objects are left alone by the garbage collector: the child's full collections then
    # traverse only what the render allocates, not the whole heap it inherited (and do not
    # copy every inherited page they touch): 4 to 9% less CPU per render in three alternating runs.
    gc.freeze()
    inherited = _statm("self", 1)
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        raise
    if pid == 0:  # the child: render, report, and leave without running the parent's cleanup
        os.close(read_end)
        try:
            _render_child(render, write_end)
        finally:
            os._exit(0)
    gc.unfreeze()  # the worker's own garbage stays collectable
    os.close(write_end)
    try:
        output = _read_until(read_end, time.monotonic() + seconds, _memory_check(pid, inherited))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if output is None:
        raise RenderError(f"The report took more than {seconds:g} seconds and was stopped.")
    if not output.startswith(b"P"):
        raise RenderError(output[2:].decode() or "The report renderer stopped unexpectedly; it may have "
                          f"run out of its {RENDER_MEMORY >> 20} MiB of memory.")
    return output[1:]


# Jobs ----------------------------------------------------------------------------------------

def cached_pdf(db: sqlite_utils.Database, digest: str) -> bytes | None:
    row = db.execute("SELECT pdf FROM report_files WHERE digest = ?", [digest]).fetchone()
    return row[0] if row else None


def job_status(db: sqlite_utils.Database, digest: str) -> dict | None:
    """The job of ``digest``, or None; a lost one (``lost``) as failed, with why, to be asked for again."""
    job = storage.first_row(db, "SELECT status, error, queued_at, started_at, worker, finished_at FROM report_jobs "
                                "WHERE digest = ?", [digest])
    if job and (why := lost(db, job)):
        job.update(status="failed", error=why)
    return job


def lost(db: sqlite_utils.Database, job: dict) -> str | None:
    """Why a job queued or running will never finish (QUEUE_PATIENCE, WORKER_GONE), or None."""
    patience = QUEUE_PATIENCE // timedelta(minutes=1)
    if job["status"] == "queued" and (waited := _minutes_since(job["queued_at"])) >= patience:
        if _queue_moving(db, job["queued_at"]):
            return None
        return (f"The report has waited {waited} minutes: the PDF worker may not be running. Ask your "
                "administrator to check `sovready worker`.")
    if job["status"] != "running":
        return None
    if job["worker"] and _gone(job["worker"]):
        return WORKER_GONE
    # A job running since before migration 028 has no start: its request's time stands in.
    if (rendering := _minutes_since(job["started_at"] or job["queued_at"])) >= patience:
        return (f"The report has been rendering for {rendering} minutes, far past its limit: the PDF worker may "
                "be stuck. Ask your administrator to check `sovready worker`.")
    return None


def _queue_moving(db: sqlite_utils.Database, queued_at: str) -> bool:
    """Whether a worker is still working through the queue towards a job asked for at ``queued_at``:
    it has taken or ended a job within QUEUE_PATIENCE, and none asked for later.

    Dozens of reports asked for at once (a ministry's agencies, its portfolio rounds) can take two
    workers more than QUEUE_PATIENCE to get through: waiting alone does not make a job lost. The
    queue is first come, first served, so a job asked for later and already taken means this one's
    task is not in it (tasks.db replaced). Read only once a job has waited QUEUE_PATIENCE."""
    since = (datetime.now(UTC) - QUEUE_PATIENCE).isoformat(timespec="seconds")
    return not db.execute("SELECT EXISTS (SELECT 1 FROM report_jobs WHERE queued_at > ? AND "
                          "(started_at IS NOT NULL OR finished_at IS NOT NULL)) "
                          "OR NOT EXISTS (SELECT 1 FROM report_jobs WHERE started_at >= ? OR finished_at >= ?)",
                          [queued_at, since, since]).fetchone()[0]


def _minutes_since(stamp: str) -> int:
    return (datetime.now(UTC) - datetime.fromisoformat(stamp)) // timedelta(minutes=1)


def process_identity(pid: int | None = None) -> str:
    """This process (or ``pid``) as no other process is, ever: where it runs (the host's name and
    its pid namespace: a container has its own, and a pid names nothing across them), then the
    boot, the pid and the process's start (field 22 of /proc/PID/stat, in clock ticks since boot),
    as a pid alone is reused; '' where the process or /proc is not there, or the process has ended
    (a zombie)."""
    pid = pid or os.getpid()
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()  # after the command's name, which may hold spaces: field 3 on
    return "" if fields[0] in "ZX" else f"{_place()} {boot}:{pid}:{fields[19]}"


def _place() -> str:
    """Where this process's pids mean something: its host's name and its pid namespace."""
    return f"{socket.gethostname()}/{os.stat('/proc/self/ns/pid').st_ino}"


def _gone(identity: str) -> bool:
    """Whether the process ``process_identity`` gave ``identity`` is known to have ended: one of this
    host and pid namespace no longer running. A process elsewhere (a worker on another machine
    sharing the database, or in another container) cannot be looked at: it is never known gone,
    and its job is lost only after QUEUE_PATIENCE. An identity recorded before it named its place
    (three fields) was of this machine."""
    place, _, process = identity.rpartition(" ")
    if place and place != _place():
        return False
    return process_identity(int(process.split(":")[1])).rpartition(" ")[2] != process


def request_report(db: sqlite_utils.Database, assessment_id: str, digest: str, by: int,
                   enqueue: Callable[[], None] | None = None) -> bool:
    """Record a job unless one is queued, running or done, and call ``enqueue`` (which asks the worker)
    in the same transaction; True if it was recorded. TooManyPending if the user ``by`` has
    PENDING_PER_PERSON jobs waiting."""
    return _request(db, digest, [assessment_id, None, None, "{}"], by, enqueue)


def request_portfolio_report(db: sqlite_utils.Database, portfolio_id: int, round_id: int, digest: str,
                             by: int, filters: dict[str, str] | None = None,
                             enqueue: Callable[[], None] | None = None) -> bool:
    """As request_report, for a portfolio round's report over the agencies matching ``filters``."""
    return _request(db, digest, [None, portfolio_id, round_id, json.dumps(filters or {}, sort_keys=True)], by,
                    enqueue)


def _request(db: sqlite_utils.Database, digest: str, subject: list, by: int,
             enqueue: Callable[[], None] | None) -> bool:
    """``subject``: assessment_id, portfolio_id, round_id, filters, with either the first or the
    next two (and the filters, as JSON, of a portfolio report). A queue that cannot be written
    (tasks.db on a full disk) leaves no job behind, which would have shown as queued until lost."""
    with storage.write_transaction(db):
        job = job_status(db, digest)
        if job and job["status"] != "failed":
            return False
        if _pending(db, by) >= PENDING_PER_PERSON:
            raise TooManyPending
        db.execute("INSERT OR REPLACE INTO report_jobs (digest, assessment_id, portfolio_id, round_id, filters, "
                   "status, error, queued_at, requested_by) VALUES (?, ?, ?, ?, ?, 'queued', '', ?, ?)",
                   [digest, *subject, storage.now(), by])
        if enqueue:
            enqueue()
    return True


def _pending(db: sqlite_utils.Database, user_id: int) -> int:
    """How many of the user's jobs are waiting or rendering, those lost aside."""
    return sum(not lost(db, job) for job in db.query("SELECT status, queued_at, started_at, worker FROM report_jobs "
                                                 "WHERE requested_by = ? AND status IN ('queued', 'running')",
                                                 [user_id]))


def _finish(db: sqlite_utils.Database, digest: str, pdf: bytes | None, error: str = "") -> None:
    with storage.write_transaction(db):
        if pdf is not None:
            # Only while its job is there: the assessment may have been deleted, and its PDFs with
            # it, during the render.
            db.execute("INSERT OR REPLACE INTO report_files SELECT ?, ?, ? "
                       "WHERE EXISTS (SELECT 1 FROM report_jobs WHERE digest = ?)",
                       [digest, pdf, storage.now(), digest])
            _forget_superseded(db, digest)
        db.execute("UPDATE report_jobs SET status = ?, error = ?, finished_at = ? WHERE digest = ?",
                   ["done" if pdf is not None else "failed", error, storage.now(), digest])


def _forget_superseded(db: sqlite_utils.Database, digest: str) -> None:
    """In a write transaction: delete the jobs of ``digest``'s subject requested before it, and
    with them (a trigger, storage.py) their PDFs. Their content is out of date, so no page asks
    for them again, and an assessment's earlier answers and notes should not stay in the database
    and its backups. A job requested later is left alone: it may be the newer one. A portfolio
    round's report with other filters is another subject: it stays."""
    db.execute("DELETE FROM report_jobs AS old WHERE EXISTS (SELECT 1 FROM report_jobs AS new "
               "WHERE new.digest = ? AND old.rowid < new.rowid AND old.assessment_id IS new.assessment_id "
               "AND old.portfolio_id IS new.portfolio_id AND old.round_id IS new.round_id "
               "AND old.filters = new.filters)", [digest])


def _take(db: sqlite_utils.Database, digest: str) -> bool:
    """Mark the job of ``digest`` as rendering in this process if it still waits; if not, log one line
    and return False.

    A job can have more than one task in the queue: one asked for again once lost (QUEUE_PATIENCE)
    while its first task was still there, one queued again by a starting worker (requeue_missing),
    one left in a queue file restored from an older copy. Whichever comes first renders it; the
    others find it rendering, done, failed or deleted, and skip it, rather than render it again. The
    digest is the content itself: a job still waiting is still wanted for what it was asked for.
    """
    with storage.write_transaction(db):
        # Which process renders it: if that process is gone before the end, the job is lost (``lost``).
        taken = db.execute("UPDATE report_jobs SET status = 'running', started_at = ?, worker = ? "
                           "WHERE digest = ? AND status = 'queued'",
                           [storage.now(), process_identity(), digest]).rowcount
    if not taken:  # what it is instead, for the log only
        status = db.execute("SELECT status FROM report_jobs WHERE digest = ?", [digest]).fetchone()
        logging.info("skipped a report task whose job is no longer waiting (%s): %s",
                     status[0] if status else "deleted", digest[:12])
    return bool(taken)


def _render_job(db: sqlite_utils.Database, digest: str, render: Callable[[], bytes]) -> None:
    """Render a job that _take took, and record the end."""
    try:
        pdf = render_limited(render)
    except RenderError as error:
        _finish(db, digest, None, str(error))
        return
    try:
        _finish(db, digest, pdf)
    except sqlite3.Error as error:
        # A full disk has no room for a PDF, but may have for a line saying so (rolled back, the
        # PDF left its pages); if not, the job is lost after QUEUE_PATIENCE.
        if (reason := storage.unavailable(error)) is None:
            raise
        _finish(db, digest, None, f"The server could not store the report: {reason}. Try again in a moment.")


def run_job(database: str, assessment_id: str, digest: str) -> None:
    """The worker's task: render the assessment's report and store it under ``digest``."""
    db = storage.connect(database)
    try:
        if not _take(db, digest):
            return
        assessment = records.get_assessment(db, assessment_id)
        if assessment is None or report_digest(db, assessment) != digest:
            _finish(db, digest, None, "The assessment changed or was deleted before its report was rendered.")
            return
        _render_job(db, digest, partial(render_pdf, build_report(db, assessment)))
    finally:
        db.close()


def run_portfolio_job(database: str, portfolio_id: int, round_id: int, digest: str,
                      filters: dict[str, str] | None = None) -> None:
    """The worker's task for a portfolio round's report over ``filters``, stored under ``digest``."""
    db = storage.connect(database)
    try:
        if not _take(db, digest):
            return
        with db.atomic():  # one snapshot: a change between the two reads would file new figures under the old digest
            current = portfolio_digest(db, portfolio_id, round_id, filters) == digest
            inputs = portfolio_inputs(db, portfolio_id, round_id, filters) if current else None
        if inputs is None:
            _finish(db, digest, None, "The portfolio changed or was deleted before its report was rendered.")
            return
        _render_job(db, digest, partial(portfolio_report.render_pdf, **inputs))
    finally:
        db.close()


# The queue's tasks by name: the name is what a queued task records of its function.
TASKS = {"render_report": run_job, "render_portfolio_report": run_portfolio_job}


@lru_cache(maxsize=4)
def queue(instance: str) -> tuple[SqliteHuey, TaskWrapper, TaskWrapper]:
    """The instance's task queue (a SQLite file beside the database) and its two render tasks."""
    huey = SqliteHuey("sovready-reports", filename=str(Path(instance) / "tasks.db"), results=False)
    return (huey, *(huey.task(name=name)(function) for name, function in TASKS.items()))


def enqueue(instance: str, database: str, assessment_id: str, digest: str) -> None:
    """Ask the worker to render; calling a Huey task only queues it."""
    queue(instance)[1](database, assessment_id, digest)


def enqueue_portfolio(instance: str, database: str, portfolio_id: int, round_id: int, digest: str,
                      filters: dict[str, str] | None = None) -> None:
    queue(instance)[2](database, portfolio_id, round_id, digest, filters or {})


def run_pending(instance: str) -> int:
    """Run every queued task in this process, as the worker would; for tests and tools."""
    huey, count = queue(instance)[0], 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        count += 1
    return count


def fail_lost_renders(database: str) -> int:
    """Mark failed, with WORKER_GONE, the jobs left running by a worker process that is gone; how many.

    Failed rather than queued again: the person who asked sees what happened and asks again if they
    still want it, while a render that took its worker down with it (the machine out of memory, the
    whole service killed by its memory limit) would take down each restarted worker in turn, and
    everyone's reports with it. Jobs left queued stay queued: their tasks are still in the queue, which
    this worker now takes, or requeue_missing queues them again.
    """
    if not Path(database).exists():  # no server has made it yet: nothing ran
        return 0
    # Looked for read-only: a worker starting writes nothing (nor turns on WAL) unless it must.
    with contextlib.closing(sqlite3.connect(f"{Path(database).as_uri()}?mode=ro", uri=True)) as peek:
        left = peek.execute("SELECT digest, worker FROM report_jobs WHERE status = 'running' AND worker != ''")
        gone = [(digest, worker) for digest, worker in left.fetchall() if _gone(worker)]
    if gone:
        db = storage.connect(database)
        try:
            with storage.write_transaction(db):
                for digest, worker in gone:  # unless asked for again meanwhile
                    db.execute("UPDATE report_jobs SET status = 'failed', error = ?, finished_at = ? "
                               "WHERE digest = ? AND status = 'running' AND worker = ?",
                               [WORKER_GONE, storage.now(), digest, worker])
        finally:
            db.close()
    return len(gone)


def requeue_missing(instance: str, database: str) -> int:
    """Queue again the jobs waiting in the database whose tasks the queue does not hold (its file
    tasks.db deleted, or restored from an older copy); how many.

    Safe to queue twice: a task renders only a job still waiting (_take), so a task queued again while
    its first one is taken by another worker is skipped, and a task checks that the content is still
    what was asked for (the digest), so nothing is rendered for content changed since. Each one's
    queued_at restarts: its page says it waits, no longer that it is lost (``lost``)."""
    if not Path(database).exists():
        return 0
    held = {_digest_of(task) for task in queue(instance)[0].pending()}
    with contextlib.closing(sqlite3.connect(f"{Path(database).as_uri()}?mode=ro", uri=True)) as peek:
        waiting = peek.execute("SELECT digest, assessment_id, portfolio_id, round_id, filters FROM report_jobs "
                               "WHERE status = 'queued'").fetchall()
    missing = [job for job in waiting if job[0] not in held]
    if not missing:
        return 0
    db = storage.connect(database)
    try:
        # One transaction with the queue's writes, as _request: a queue that cannot be written changes nothing.
        with storage.write_transaction(db):
            for digest, assessment_id, portfolio_id, round_id, filters in missing:
                if db.execute("UPDATE report_jobs SET queued_at = ? WHERE digest = ? AND status = 'queued'",
                              [storage.now(), digest]).rowcount:
                    if assessment_id:
                        enqueue(instance, database, assessment_id, digest)
                    else:
                        enqueue_portfolio(instance, database, portfolio_id, round_id, digest, json.loads(filters))
    finally:
        db.close()
    return len(missing)


def _digest_of(task) -> str | None:
    """The digest a queued task renders, whichever of TASKS it is."""
    function = TASKS.get(task.name)
    return inspect.signature(function).bind(*task.args, **task.kwargs).arguments["digest"] if function else None


def _recover_at_start(instance: str, database: str) -> None:
    """fail_lost_renders and requeue_missing, logged; a database that cannot be used now (locked, a
    full disk) is logged too, and the worker starts all the same: the jobs left unfinished are lost
    after QUEUE_PATIENCE."""
    try:
        failed = fail_lost_renders(database)
        queued = requeue_missing(instance, database)
    except sqlite3.Error as error:
        logging.warning("could not look for reports an earlier worker left unfinished (%s): their pages offer to "
                        "ask again after %d minutes", error, QUEUE_PATIENCE // timedelta(minutes=1))
        return
    if failed:
        logging.info("%d report(s) were rendering when an earlier worker stopped: marked failed, to be asked "
                     "for again", failed)
    if queued:
        logging.info("%d report(s) were waiting but missing from the queue (tasks.db): queued again", queued)


# How often a worker started with ``stop_with`` looks for its parent.
PARENT_CHECK_SECONDS = 1


def _stop_with(parent: int) -> None:
    """Stop this process (SIGTERM, which Huey's consumer takes to stop its workers) once its parent
    is no longer ``parent``, the process that started it (an orphan's is another), in a thread.

    The server starts its PDF worker in a session of its own (server.ReportWorker), which a server
    killed with SIGKILL cannot stop: the worker went on rendering and kept the database open, so
    that a restore was refused until someone found it. The server names itself rather than the
    worker asking for its parent when it starts, by which time the server may be gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        logging.warning("the server that started this PDF worker is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def run_worker(instance: str, workers: int = 2, database: str | None = None, stop_with: int | None = None) -> None:
    """Run the worker until stopped: ``workers`` processes take render jobs from the queue. With
    ``database``, first fail the renders an earlier worker left unfinished (fail_lost_renders) and queue
    again the jobs its queue lost (requeue_missing); with
    ``stop_with``, stop once that process, its parent, has exited."""
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [report worker] %(message)s")
    # WeasyPrint tells each step of each render at INFO: some 80 lines a report, and nothing an
    # operator acts on. Its warnings still show.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    if stop_with:  # first: the server may be gone before the warm-up is done
        _stop_with(stop_with)
    if database:
        _recover_at_start(instance, database)
    warm_up()  # before Huey forks its worker processes, so that they and their render children start warm
    queue(instance)[0].create_consumer(workers=workers, worker_type="process").run()
