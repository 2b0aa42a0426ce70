"""Durability: the production server is killed (SIGKILL) in the middle of a load of answer
submissions; after a restart every submission it acknowledged is stored, and the database is
intact.

Each submission answers the data dimension of its own assessment, so that an acknowledged
submission can be checked one by one (a later write cannot hide a lost earlier one).
"""

import contextlib
import http.client
import os
import signal
import sqlite3
import threading
import time
from urllib.parse import urlencode

from assessment import records, storage
from assessment.rubrics import stored_rubric
from assessment.web import create_app
from bench.web import free_port, log_in, request, seed, start_server, stop

ASSESSMENTS = 200
CLIENTS = 8
KILL_AFTER = 60  # acknowledged submissions before the kill: the load is well under way


def _seed(instance) -> tuple[str, list[str]]:
    """The bench's instance (an administrator, a workspace) and ASSESSMENTS empty assessments in it."""
    seed(instance)
    app = create_app(instance_path=instance)
    db = storage.connect(app.config["DATABASE"])
    (workspace,) = db.execute("SELECT id FROM workspaces").fetchone()
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    ids = [records.create_assessment(db, workspace, rubric, f"Round {n}") for n in range(ASSESSMENTS)]
    db.close()
    return app.config["DATABASE"], ids


def _submit(port, cookie, token, pending: list[str], acknowledged: list[str], done: threading.Event):
    """Answer one assessment after another until the server dies; note what it acknowledged."""
    with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10)) as conn:
        _submit_on(conn, port, cookie, token, pending, acknowledged, done)


def _submit_on(conn, port, cookie, token, pending: list[str], acknowledged: list[str], done: threading.Event):
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    while not done.is_set():
        try:
            assessment_id = pending.pop()
        except IndexError:
            return
        form = urlencode({"csrf_token": token, "go": "stay", "data.residency-value": "3",
                          "data.residency-note": f"ack {assessment_id}", "data.quality-value": "2"})
        try:
            status, _, _ = request(port, "POST", f"/a/{assessment_id}/dimensions/data", form, headers, conn)
        except (OSError, http.client.HTTPException):
            return  # the server is gone: this submission was never acknowledged
        if status == 302:
            acknowledged.append(assessment_id)


def _load_then_kill(port, server, ids) -> tuple[list[str], int]:
    cookie, token = log_in(port, ids[0])
    pending, acknowledged, done = list(ids), [], threading.Event()
    clients = [threading.Thread(target=_submit, args=(port, cookie, token, pending, acknowledged, done))
               for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(server.pid, signal.SIGKILL)  # master, web workers and PDF worker: no clean shutdown
    server.wait(10)
    done.set()
    for client in clients:
        client.join(15)
    sent = len(ids) - len(pending)
    return list(acknowledged), sent


def test_every_acknowledged_submission_survives_a_sigkill(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    database, ids = _seed(instance)
    port = free_port()
    acknowledged, sent = _load_then_kill(port, start_server(instance, port, workers=2, report_workers=0), ids)
    # Killed mid-load: enough acknowledged, and the load was not over.
    assert KILL_AFTER <= len(acknowledged) <= sent < ASSESSMENTS, (len(acknowledged), sent)

    restarted = start_server(instance, port, workers=1, report_workers=0)
    try:
        db = sqlite3.connect(database)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {row[0] for row in db.execute(
            "SELECT assessment_id FROM answers WHERE question_id = 'data.residency' AND note = 'ack ' || assessment_id")}
        scored = {row[0] for row in db.execute("SELECT assessment_id FROM scores WHERE dimension = '_overall'")}
        db.close()
    finally:
        stop(restarted)
    assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged submissions lost"
    assert set(ids) <= scored  # every assessment still has its scores: no half-written transaction
    print(f"\nkill test: {sent} submissions sent, {len(acknowledged)} acknowledged, "
          f"{len(set(acknowledged) & stored)} of them stored; {len(stored)} stored in all; integrity_check ok")
