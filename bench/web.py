"""Web throughput and latency under concurrent clients, against the production server.

Starts ``sovready serve`` (Granian) on a free local port with a seeded instance, logs in once,
then for 50 and 32 concurrent clients with keep-alive connections measures requests per second
and p95 latency of the results page, a dimension page, an answer submission (a POST with its
CSRF token, each changing the evidence note so that each is a real save) and a trivial route
(/healthz), and prints each figure's ratio to the trivial route's in the same run, so it can be
compared across machines.

The clients are wrk (Debian's package ``wrk``) when it is installed: a load generator in C that
leaves the server the CPU. Otherwise they are Python threads from the standard library, whose
latencies include waiting for the client's own interpreter lock: on two cores the p95 of even
the trivial route then exceeds 50 ms.

Targets at 32 concurrent clients: p95 under 50 ms and at least half the trivial route's
throughput for the pages; answer submission p95 under 25 ms.

    .venv/bin/python -m bench.web [SECONDS_PER_RUN] [WORKERS]

Each endpoint runs five times for 2 s, taking turns with the others; the figures are the medians.
Last, an answer submission with one client at a time (Python's client): a save's own latency.
"""

import contextlib
import http.client
import itertools
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from assessment import accounts, records, storage
from assessment.answers import load_answers
from assessment.paths import EXAMPLES
from assessment.rubrics import stored_rubric
from assessment.web import create_app
from assessment.web.server import THREADS, WORKERS
from bench import arguments

PASSWORD = "load test password, not a secret"  # noqa: S105 (no 'bench': the account is bench@)
CONCURRENCY = (50, 32)
ROUNDS = 5


def seeded_instance(instance: Path):
    """An instance with an administrator, a workspace and the mid-maturity example's assessment:
    the app, an open connection, the administrator's id, the rubric and the assessment's id."""
    app = create_app(instance_path=instance)
    db = storage.connect(app.config["DATABASE"])
    user, workspace = accounts.create_first_admin(db, "bench@example.org", "Bench", PASSWORD, "Bench")
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    assessment_id = records.create_assessment(db, workspace, rubric, "Bench", answers=answers, created_by=user)
    return app, db, user, rubric, assessment_id


def seed(instance: Path) -> str:
    """An instance with an administrator, a workspace and a complete assessment; its id."""
    _, db, _, _, assessment_id = seeded_instance(instance)
    db.close()
    return assessment_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(instance: Path, port: int, workers: int | None = None, report_workers: int = 2) -> subprocess.Popen:
    """``sovready serve`` (with its default number of workers unless given) in its own process group
    (so that one signal reaches all of it), once it answers. Its log goes to
    ``instance/server.log``: a pipe nobody reads would fill and stall it."""
    exe = shutil.which("sovready", path=str(Path(sys.executable).parent))
    log = instance / "server.log"
    command = [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--instance", str(instance),
               "--report-workers", str(report_workers), *(["--workers", str(workers)] if workers else [])]
    with log.open("ab") as stderr:  # the server keeps its own copy of the descriptor
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)


def request(port, method, path, body=None, headers=None, conn=None):
    """One request, on ``conn`` or a connection of its own; returns (status, response headers, body text)."""
    if conn is None:
        with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=30)) as own:
            return request(port, method, path, body, headers, own)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.headers, response.read().decode(errors="replace")


def log_in(port: int, assessment_id: str, email: str = "bench@example.org") -> tuple[str, str]:
    """A session cookie and a CSRF token for it."""
    _, headers, page = request(port, "GET", "/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urlencode({"csrf_token": token, "email": email, "password": PASSWORD})
    status, headers, _ = request(port, "POST", "/login", form, {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    if status != 302:
        raise RuntimeError(f"log-in failed with {status}")
    # The session's cookie, not the browser's device cookie that a log-in sets beside it.
    cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("session=")).split(";")[0]
    _, headers, page = request(port, "GET", f"/a/{assessment_id}/dimensions/data", headers={"Cookie": cookie})
    # The first form after log-in puts a CSRF secret into the session, which sets a new cookie.
    cookie = headers["Set-Cookie"].split(";")[0] if "Set-Cookie" in headers else cookie
    return cookie, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def numbered(body: str | None, number: str) -> str | None:
    return body and body.replace(SAVE_NUMBER, number)


def client(port, method, path, body, headers, expected, until, latencies, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    numbers = itertools.count()
    while time.perf_counter() < until:
        number = f"{threading.get_ident()}x{next(numbers)}"
        start = time.perf_counter()
        try:
            status = request(port, method, path, numbered(body, number), headers, conn)[0]
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = None
        latencies.append(time.perf_counter() - start)
        if status != expected:
            errors.append(status)
    conn.close()


def run(port, concurrency, seconds, method, path, body=None, headers=None, expected=200) -> dict:
    """Requests per second, p50 and p95 of one endpoint under ``concurrency`` clients."""
    latencies, errors = [], []
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=client, args=(port, method, path, body, headers, expected, until,
                                                      latencies, errors)) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p95": latencies[int(len(latencies) * 0.95)] * 1000, "n": len(latencies), "errors": len(errors)}


# In a submission's body, replaced by a number of its own on every request: each submission
# changes the evidence note, so each is a real save (one that changes nothing writes nothing).
SAVE_NUMBER = "SAVENUMBER"


def endpoints(assessment_id, cookie, token):
    page = {"Cookie": cookie}
    form = urlencode({"csrf_token": token, "go": "stay", "data.residency-value": "3",
                      "data.residency-basis": "evidenced", "data.residency-note": f"EU regions only, {SAVE_NUMBER}",
                      "data.quality-value": "2", "data.inventory-value": "2", "data.sharing-value": "1"})
    post = {**page, "Content-Type": "application/x-www-form-urlencoded"}
    return [("trivial /healthz", "GET", "/healthz", None, {}, 200),
            ("results page", "GET", f"/a/{assessment_id}/results", None, page, 200),
            ("dimension page", "GET", f"/a/{assessment_id}/dimensions/data", None, page, 200),
            ("answer submission", "POST", f"/a/{assessment_id}/dimensions/data", form, post, 302)]


WRK_SCRIPT = """
wrk.method = "%(method)s"
wrk.body = %(body)s
%(headers)s
count = 0  -- globals: setup() sets thread_id in each thread's own interpreter
setup = function(thread)
  count = count + 1
  thread:set("thread_id", count)
end
request = function()
  count = count + 1
  local body = wrk.body and wrk.body:gsub("%(marker)s", thread_id .. "x" .. count)
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status))
end
"""


def _lua_string(text: str | None) -> str:
    return "nil" if text is None else "[==[" + text + "]==]"


def run_wrk(port, concurrency, seconds, method, path, body=None, headers=None, expected=200) -> dict:
    """As ``run``, measured by wrk. wrk counts a status under 400 as a success, so an unexpected
    redirect would pass: ``expected`` is checked once beforehand."""
    status = request(port, method, path, numbered(body, "0"), headers)[0]
    if status != expected:
        raise RuntimeError(f"{method} {path} answered {status}, not {expected}")
    lines = "\n".join(f'wrk.headers["{name}"] = {_lua_string(value)}' for name, value in (headers or {}).items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"method": method, "body": _lua_string(body), "headers": lines,
                                   "marker": SAVE_NUMBER})
        script.flush()
        output = subprocess.run(["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "-s", script.name,  # noqa: S607
                                 f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    requests, elapsed, p50, p95, errors = re.search(r"RESULT (.*)", output).group(1).split()
    return {"rps": int(requests) / float(elapsed), "p50": float(p50), "p95": float(p95), "n": int(requests),
            "errors": int(errors)}


def interleaved(measure, port, concurrency, seconds, specs) -> dict:
    """Each endpoint measured ROUNDS times, the endpoints taking turns, and the median of each
    figure (errors and requests are summed): a shared machine's speed drifts within a minute,
    and a ratio of two runs made far apart would measure the drift."""
    runs = {name: [] for name, *_ in specs}
    for _ in range(ROUNDS):
        for name, *spec in specs:
            runs[name].append(measure(port, concurrency, seconds, *spec))
    return {name: {key: (sum if key in ("n", "errors") else statistics.median)([run[key] for run in found])
                   for key in found[0]} for name, found in runs.items()}


def report(concurrency, figures) -> None:
    trivial = figures["trivial /healthz"]
    print(f"\n{concurrency} concurrent clients")
    print(f"  {'endpoint':<18} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s ratio':>12} {'p95 ratio':>10} errors")
    for name, f in figures.items():
        print(f"  {name:<18} {f['rps']:8.0f} {f['p50']:8.1f} {f['p95']:8.1f} {f['rps'] / trivial['rps']:12.2f} "
              f"{f['p95'] / trivial['p95']:10.1f} {f['errors']}")


def verdicts(figures) -> None:
    trivial = figures["trivial /healthz"]["rps"]
    checks = [(f"{name} p95 < 50 ms and >= half the trivial throughput",
               figures[name]["p95"] < 50 and figures[name]["rps"] >= trivial / 2)
              for name in ("results page", "dimension page")]
    checks.append(("answer submission p95 < 25 ms", figures["answer submission"]["p95"] < 25))
    print("\nTargets at 32 clients:")
    for text, ok in checks:
        print(f"  {'OK  ' if ok else 'MISS'} {text}")


def alone(port, seconds, submission) -> None:
    """An answer submission with no other request waiting: what one save takes, queueing apart."""
    name, *spec = submission
    figures = interleaved(run, port, 1, seconds, [(name, *spec)])[name]
    print(f"\nOne client at a time: {name} p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, "
          f"{figures['rps']:.0f} req/s")


def main():
    seconds, workers = arguments(__doc__, 2.0, WORKERS)
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        assessment_id = seed(instance)
        port = free_port()
        server = start_server(instance, port, workers)
        measure = run_wrk if shutil.which("wrk") else run
        try:
            cookie, token = log_in(port, assessment_id)
            print(f"sovready serve: Granian, {workers} workers x {THREADS} threads, {seconds:g} s per run; "
                  f"clients: {'wrk' if measure is run_wrk else 'Python threads (install wrk for truer latencies)'}")
            specs = endpoints(assessment_id, cookie, token)
            for concurrency in CONCURRENCY:
                figures = interleaved(measure, port, concurrency, seconds, specs)
                report(concurrency, figures)
            verdicts(figures)
            alone(port, seconds, next(spec for spec in specs if spec[0] == "answer submission"))
        finally:
            stop(server)


if __name__ == "__main__":
    main()
