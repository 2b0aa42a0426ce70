"""The PDF report through the production server: cached download, and the pages while rendering.

Starts ``sovready serve`` (Granian and its PDF worker with two processes) on a seeded instance
and measures, in one run:
- the cached download of a rendered report (target: under 50 ms);
- the results page's p95 with 8 clients, idle and while the worker renders two PDFs at a time
  (target: within 1.5 times the idle p95), and the ratio of the two. The two alternate over
  ROUNDS rounds, each busy one rendering reports of its own, and the median ratio is the figure:
  one round's ratio ranged from 0.99 to 1.92 on the same machine and code.

    .venv/bin/python -m bench.report_web [SECONDS]
"""

import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from assessment import accounts, records, storage
from assessment.answers import load_answers
from assessment.jobs import PENDING_PER_PERSON
from assessment.paths import EXAMPLES
from assessment.rubrics import stored_rubric
from assessment.web import create_app
from bench import arguments
from bench.web import PASSWORD, free_port, log_in, request, run, seed, start_server, stop

CLIENTS = 8
RENDERING = 12  # assessments whose reports keep both worker processes busy during the measurement
# One person may have PENDING_PER_PERSON reports waiting at a time: these members ask for the rest.
ASKERS = [f"asker-{n}@example.org" for n in range(RENDERING // PENDING_PER_PERSON)]
ROUNDS = 3


def seed_more(instance: Path, count: int) -> list[str]:
    """``count`` more assessments, and ASKERS members of the workspace who ask for their reports."""
    app = create_app(instance_path=instance)
    db = storage.connect(app.config["DATABASE"])
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    answers = load_answers(EXAMPLES / "early-public-agency.yaml", rubric)
    (workspace,) = db.execute("SELECT id FROM workspaces").fetchone()  # the one seed() made
    ids = [records.create_assessment(db, workspace, rubric, f"Agency {i}", answers=answers) for i in range(count)]
    (owner,) = db.execute("SELECT id FROM users").fetchone()
    for email in ASKERS:
        invite = accounts.create_invite(db, workspace, "viewer", owner, hours=1)
        accounts.accept_invite(db, invite, accounts.create_user(db, email, email, PASSWORD))
    db.close()
    return ids


def ask_for_report(port, assessment_id, cookie, token) -> None:
    form = urlencode({"csrf_token": token})
    status = request(port, "POST", f"/a/{assessment_id}/report", form,
                     {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})[0]
    if status != 302:
        raise RuntimeError(f"asking for the report failed with {status}")


def wait_for_report(port, assessment_id, cookie, seconds=120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if request(port, "GET", f"/a/{assessment_id}/report.pdf", headers={"Cookie": cookie})[0] == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("the report was not rendered in time")


def cached_download(port, assessment_id, cookie, runs=50) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        status = request(port, "GET", f"/a/{assessment_id}/report.pdf", headers={"Cookie": cookie})[0]
        times.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"the cached download answered {status}")
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000


def _round(port, results, batch, askers, seconds) -> float:
    """The results page idle, then while the worker renders ``batch``, asked for by ``askers`` (sessions
    and their CSRF tokens); the ratio of the p95s."""
    idle = run(port, CLIENTS, seconds, *results)
    for n, other in enumerate(batch):
        ask_for_report(port, other, *askers[n // PENDING_PER_PERSON])
    time.sleep(0.5)  # the worker has picked up its first two jobs
    busy = run(port, CLIENTS, seconds, *results)
    for other in batch:  # the next round starts idle
        wait_for_report(port, other, askers[0][0])
    print(f"results page, {CLIENTS} clients: idle p95 {idle['p95']:.1f} ms ({idle['rps']:.0f} req/s); "
          f"while two PDFs render p95 {busy['p95']:.1f} ms ({busy['rps']:.0f} req/s)")
    return busy["p95"] / idle["p95"]


def main():
    (seconds,) = arguments(__doc__, 5.0)
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        assessment_id = seed(instance)
        others = seed_more(instance, RENDERING * ROUNDS)
        port = free_port()
        server = start_server(instance, port, 2)
        try:
            cookie, token = log_in(port, assessment_id)
            ask_for_report(port, assessment_id, cookie, token)
            wait_for_report(port, assessment_id, cookie)
            median, p95 = cached_download(port, assessment_id, cookie)
            print(f"cached PDF download: median {median:.1f} ms, p95 {p95:.1f} ms (target < 50 ms)")
            results = ("GET", f"/a/{assessment_id}/results", None, {"Cookie": cookie}, 200)
            run(port, CLIENTS, 1, *results)  # warm: the first round's idle p95 was the slowest
            askers = [log_in(port, assessment_id, email) for email in ASKERS]
            ratios = [_round(port, results, batch, askers, seconds)
                      for batch in (others[i::ROUNDS] for i in range(ROUNDS))]
            print(f"ratio busy/idle p95: median {statistics.median(ratios):.2f} of {ROUNDS} rounds (target <= 1.5)")
        finally:
            stop(server)


if __name__ == "__main__":
    main()
