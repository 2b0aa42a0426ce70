"""Report jobs the machine lost: a worker killed while it rendered, a queue no worker takes. Their
pages say what happened and offer to ask again, and a worker that starts fails what it finds left
running. Through the real queue, with real worker processes killed as the OOM killer would."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import time_machine

from assessment import jobs, portfolios, records, storage

from .conftest import text

# A render that never ends, in a process of its own that takes the queued job as the worker does.
HANGING_WORKER = ("import sys, time; from assessment import jobs; "
                  "jobs.render_limited = lambda render, seconds=0: time.sleep(600); jobs.run_pending(sys.argv[1])")


def _until(check, what: str, seconds: float = 120):
    """Wait for ``check()`` to hold (another process is at work), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"still not {what}"
        time.sleep(0.05)
    return found


def _row(db, assessment_id) -> dict | None:
    return next(db.query("SELECT status, error, worker FROM report_jobs WHERE assessment_id = ?", [assessment_id]),
                None)


def _status(client, assessment_id) -> str:
    return text(client.get(f"/a/{assessment_id}/report"))


def _kill_while_rendering(app, db, assessment_id) -> None:
    """Start a worker on the queue, and kill it (SIGKILL) once it has taken the job."""
    worker = subprocess.Popen([sys.executable, "-c", HANGING_WORKER, app.instance_path])  # noqa: S603
    try:
        _until(lambda: (_row(db, assessment_id) or {}).get("status") == "running", "rendering")
    finally:
        worker.kill()
        worker.wait()


def test_a_report_whose_worker_was_killed_can_be_asked_for_again(app, db, owner, finished, tmp_path):
    owner.post(f"/a/{finished}/report")
    _kill_while_rendering(app, db, finished)
    assert _row(db, finished)["status"] == "running"  # as the killed worker left it
    page = _status(owner, finished)
    assert f"The last attempt failed: {jobs.WORKER_GONE}" in page and "Try again" in page
    assert "this takes a few seconds" not in page and "data-live-auto" not in page  # no longer waits
    # A worker started now (as serve restarts it) fails what it finds left running, then renders what is asked.
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "assessment", "worker", "--instance", app.instance_path,  # noqa: S603
                               "--workers", "1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _until(lambda: _row(db, finished)["status"] == "failed", "failed by the new worker")
        assert _row(db, finished)["error"] == jobs.WORKER_GONE
        assert owner.post(f"/a/{finished}/report").status_code == 302
        _until(lambda: "is ready" in _status(owner, finished), "rendered by the new worker")
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
        log.close()
    assert "1 report(s) were rendering when an earlier worker stopped" in (tmp_path / "worker.log").read_text()


def test_a_worker_starting_leaves_a_live_workers_render_alone(app, db, owner, finished):
    owner.post(f"/a/{finished}/report")
    db.execute("UPDATE report_jobs SET status = 'running', started_at = ?, worker = ?",
               [datetime.now(UTC).isoformat(timespec="seconds"), jobs.process_identity()])  # this process: alive
    db.conn.commit()
    assert jobs.fail_lost_renders(app.config["DATABASE"]) == 0
    assert "Rendering the report" in _status(owner, finished)
    assert jobs.process_identity(os.getpid()) != jobs.process_identity(os.getppid())


def test_a_report_no_worker_takes_says_so_and_can_be_asked_for_again(app, db, owner, finished):
    owner.post(f"/a/{finished}/report")
    jobs.queue(app.instance_path)[0].flush()  # the queue file lost (replaced, or deleted with a cleanup)
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE - timedelta(minutes=1)):
        assert "The report is queued" in _status(owner, finished)  # a long queue is not a lost one
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=1)):
        page = _status(owner, finished)
        assert ("The last attempt failed: The report has waited 6 minutes: the PDF worker may not be running. "
                "Ask your administrator to check `sovready worker`.") in page
        assert "Try again" in page
        owner.post(f"/a/{finished}/report")
        assert "The report is queued" in _status(owner, finished)
    assert jobs.run_pending(app.instance_path) == 1
    assert "is ready" in _status(owner, finished)


def test_a_render_that_never_ends_is_lost_after_the_patience(app, db, owner, finished):
    """A worker alive but unable to record the end (a full disk while it stored the PDF)."""
    owner.post(f"/a/{finished}/report")
    db.execute("UPDATE report_jobs SET status = 'running', started_at = ?, worker = ?",
               [datetime.now(UTC).isoformat(timespec="seconds"), jobs.process_identity()])
    db.conn.commit()
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=2)):
        page = _status(owner, finished)
    assert "The report has been rendering for 7 minutes, far past its limit" in page and "Try again" in page


def test_lost_reports_no_longer_count_against_the_askers_reports_waiting(app, db, owner, people, finished):
    owner.post(f"/a/{finished}/report")
    assert jobs._pending(db, people["owner"]) == 1
    _kill_while_rendering(app, db, finished)
    assert jobs._pending(db, people["owner"]) == 0


def test_a_portfolio_report_no_worker_takes_can_be_asked_for_again(app, db, owner, portfolio):
    round_id = portfolios.rounds(db, portfolio)[0]["id"]
    status = f"/portfolios/{portfolio}/report?round={round_id}"
    owner.post(status)
    jobs.queue(app.instance_path)[0].flush()
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=1)):
        page = text(owner.get(status))
        assert "The report has waited 6 minutes: the PDF worker may not be running" in page and "Try again" in page
        owner.post(status)
    assert jobs.run_pending(app.instance_path) == 1
    assert "is ready" in text(owner.get(status))


def test_a_report_the_disk_has_no_room_for_says_so(app, db, owner, finished, monkeypatch):
    """The worker's own connection cannot grow the database: the PDF cannot be stored."""
    monkeypatch.setattr(jobs, "render_limited", lambda render, seconds=0: b"%PDF " + os.urandom(200_000))
    connect = storage.connect

    def full(path):
        opened = connect(path)
        opened.execute(f"PRAGMA max_page_count = {opened.execute('PRAGMA page_count').fetchone()[0]}")
        return opened

    owner.post(f"/a/{finished}/report")
    monkeypatch.setattr(storage, "connect", full)
    assert jobs.run_pending(app.instance_path) == 1
    page = _status(owner, finished)
    assert "The last attempt failed: The server could not store the report: its disk is full." in page
    assert "Try again" in page


def test_a_worker_starts_even_if_the_database_is_locked_and_says_what_it_could_not_do(app, db, owner, finished,
                                                                                    monkeypatch, caplog):
    owner.post(f"/a/{finished}/report")
    ended = subprocess.run([sys.executable, "-c", "from assessment import jobs; print(jobs.process_identity())"],  # noqa: S603
                           capture_output=True, text=True, check=True).stdout.strip()
    db.execute("UPDATE report_jobs SET status = 'running', worker = ?", [ended])  # left by a process now gone
    db.conn.commit()
    consumer = []
    huey = SimpleNamespace(create_consumer=lambda **options: SimpleNamespace(run=lambda: consumer.append(options)))
    monkeypatch.setattr(jobs, "queue", lambda instance: (huey,))
    monkeypatch.setattr(jobs, "warm_up", lambda: None)
    monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        jobs.run_worker(app.instance_path, 1, app.config["DATABASE"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert consumer == [{"workers": 1, "worker_type": "process"}]  # it serves the queue all the same
    assert ("could not look for reports an earlier worker left unfinished (database is locked): their pages "
            "offer to ask again after 5 minutes") in caplog.text
    assert f"The last attempt failed: {jobs.WORKER_GONE}" in _status(owner, finished)  # the page knew anyway


# A process that takes the queued tasks as the worker does, and writes a line to argv[2] per render.
COUNTING_WORKER = ("import logging, sys; from assessment import jobs; logging.basicConfig(level=logging.INFO); "
                   "real = jobs.render_limited; "
                   "jobs.render_limited = lambda render, seconds=30: "
                   "(open(sys.argv[2], 'a').write('render\\n'), real(render, seconds))[1]; "
                   "jobs.run_pending(sys.argv[1])")


def test_a_lost_report_asked_for_again_is_rendered_once_when_its_first_task_turns_up(app, db, owner, finished,
                                                                                    tmp_path):
    """No worker ran for a while: the report was lost and asked for again. Both tasks are then in the
    queue when a worker starts: it renders the report once and says why it skips the other."""
    owner.post(f"/a/{finished}/report")
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=1)):
        assert "Try again" in _status(owner, finished)
        owner.post(f"/a/{finished}/report")
    assert jobs.queue(app.instance_path)[0].pending_count() == 2
    renders = tmp_path / "renders"
    ran = subprocess.run([sys.executable, "-c", COUNTING_WORKER, app.instance_path, str(renders)],  # noqa: S603
                         capture_output=True, text=True, timeout=120, check=True)
    assert renders.read_text().count("render") == 1
    assert "is ready" in _status(owner, finished)
    skipped = [line for line in ran.stderr.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "no longer waiting (done)" in skipped[0], ran.stderr


def test_a_worker_starting_queues_again_the_reports_its_queue_lost(app, db, owner, people, finished,
                                                                  default_rubric, tmp_path):
    """tasks.db deleted (or restored from an older copy): a worker that starts queues again each report
    still waiting in the database, unless its content changed since, and logs how many."""
    changed = records.create_assessment(db, people["workspace"], default_rubric, "Changed", created_by=people["owner"])
    owner.post(f"/a/{finished}/report")
    owner.post(f"/a/{changed}/report")
    jobs.queue(app.instance_path)[0].flush()
    records.update_assessment(db, records.get_assessment(db, changed), default_rubric, title="Changed since")
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "assessment", "worker", "--instance", app.instance_path,  # noqa: S603
                               "--workers", "1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _until(lambda: "is ready" in _status(owner, finished), "rendered without asking again")
        _until(lambda: _row(db, changed)["status"] == "failed", "given up as changed")
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
        log.close()
    assert _row(db, changed)["error"] == "The assessment changed or was deleted before its report was rendered."
    assert db.execute("SELECT count(*) FROM report_files").fetchone()[0] == 1  # nothing rendered for the changed one
    assert "2 report(s) were waiting but missing from the queue (tasks.db): queued again" in (
        tmp_path / "worker.log").read_text()


def test_a_worker_starting_queues_again_only_what_its_queue_lacks(app, db, owner, finished, portfolio):
    round_id = portfolios.rounds(db, portfolio)[0]["id"]
    owner.post(f"/a/{finished}/report")
    owner.post(f"/portfolios/{portfolio}/report?round={round_id}")
    huey = jobs.queue(app.instance_path)[0]
    assert jobs.requeue_missing(app.instance_path, app.config["DATABASE"]) == 0  # both tasks are there
    huey.flush()
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=1)):
        assert "Try again" in _status(owner, finished)
        assert jobs.requeue_missing(app.instance_path, app.config["DATABASE"]) == 2
        assert "The report is queued" in _status(owner, finished)  # waiting again, no longer lost
    assert huey.pending_count() == 2
    assert jobs.run_pending(app.instance_path) == 2
    assert "is ready" in _status(owner, finished)
    assert "is ready" in text(owner.get(f"/portfolios/{portfolio}/report?round={round_id}"))


def _taken_by_a_live_worker(db, assessment_id: str, queued_at: str) -> None:
    """Another report, asked for at ``queued_at``, taken just now by a worker that is alive (this process)."""
    db.execute("INSERT INTO report_jobs (digest, assessment_id, status, queued_at, started_at, worker) "
               "VALUES ('other', ?, 'running', ?, ?, ?)", [assessment_id, queued_at, storage.now(), jobs.process_identity()])
    db.conn.commit()


def test_a_report_waiting_in_a_long_queue_a_live_worker_works_through_is_not_lost(app, db, owner, people, finished,
                                                                                 empty):
    """Dozens of agency and portfolio reports asked for at once: the queue takes more than five minutes
    to get through, while the worker takes one report after another. Each waits its turn."""
    owner.post(f"/a/{finished}/report")
    asked = _row(db, finished)
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=3)):
        # The worker took, a moment ago, a report asked for before this one.
        _taken_by_a_live_worker(db, empty, "2000-01-01T00:00:00+00:00")
        page = _status(owner, finished)
        assert "The report is queued" in page and "failed" not in page
        assert jobs._pending(db, people["owner"]) == 1  # still waiting: it counts against the asker's three
    assert asked["status"] == "queued"
    assert jobs.run_pending(app.instance_path) == 1  # the worker reaches it
    assert "is ready" in _status(owner, finished)


def test_a_report_the_queue_went_past_is_lost_after_the_patience(app, db, owner, finished, empty):
    """Its task lost (tasks.db replaced) while the worker goes on taking the reports asked for after it."""
    owner.post(f"/a/{finished}/report")
    jobs.queue(app.instance_path)[0].flush()
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat(timespec="seconds")
    with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=1)):
        _taken_by_a_live_worker(db, empty, later)
        assert "The report has waited 6 minutes: the PDF worker may not be running" in _status(owner, finished)


def _elsewhere(identity: str, place: str) -> str:
    """``identity`` as a process elsewhere would record it: its own host and pid namespace."""
    return place + " " + identity.split(" ", 1)[-1]


def test_a_report_rendering_on_another_machine_or_container_is_not_taken_for_lost(app, db, owner, finished):
    """A worker on another machine sharing the database, or in another container (another pid namespace,
    the same kernel and boot): its pid names nothing here, or another process. It is not known gone."""
    owner.post(f"/a/{finished}/report")
    here = jobs.process_identity(os.getppid())  # a live process of this machine, as a worker elsewhere would be
    for place in ("other-host/4026531836", f"{socket.gethostname()}/1"):
        db.execute("UPDATE report_jobs SET status = 'running', started_at = ?, worker = ?",
                   [storage.now(), _elsewhere(here, place)])
        db.conn.commit()
        assert "Rendering the report" in _status(owner, finished)
        assert jobs.fail_lost_renders(app.config["DATABASE"]) == 0  # a worker starting here leaves it alone
        with time_machine.travel(datetime.now(UTC) + jobs.QUEUE_PATIENCE + timedelta(minutes=1)):
            assert "far past its limit" in _status(owner, finished)  # lost after the patience, as any stuck render


def test_a_process_identity_names_its_host_and_pid_namespace():
    identity = jobs.process_identity()
    place, rest = identity.split(" ")
    assert place == f"{socket.gethostname()}/{os.stat('/proc/self/ns/pid').st_ino}"
    assert rest.split(":")[1] == str(os.getpid())
