"""The production server spreads keep-alive connections over its workers, refuses a port
that something else listens on, replaces a worker that dies, and logs each request in the
combined format without the secrets of invitation and join links.

On one shared listening socket, the worker that woke first took a burst of new connections and
kept them; requests on the crowded worker then queued while the other worker's core idled. Each
worker now has its own socket (SO_REUSEPORT) and the kernel spreads the connections.
"""

import contextlib
import http.client
import logging
import os
import pty
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from assessment import accounts, storage
from assessment.cli import cli
from assessment.web import create_app, server
from bench.web import free_port, log_in, request, seed, start_server, stop

CONNECTIONS = 32


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _sockets(port: int, state: str) -> set[str]:
    """Socket inodes of the server's side of TCP sockets on ``port`` in ``state`` (as /proc/net/tcp
    writes it: 01 established, 0A listening)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def _held_by(pid: int, inodes: set[str]) -> int:
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def test_a_burst_of_connections_is_spread_over_the_workers(tmp_path):
    assessment_id = seed(tmp_path)
    port = free_port()
    server = start_server(tmp_path, port, workers=2, report_workers=0)
    try:
        cookie, _ = log_in(port, assessment_id)
        # One thread: 32 client threads would leave this process glibc malloc arenas of 64 MiB
        # each, which the PDF tests' render children (limited to 1 GiB) would inherit.
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(CONNECTIONS)]
        for conn in connections:
            conn.connect()  # the burst: all 32 before any request
        for _ in range(20):
            for conn in connections:
                conn.request("GET", f"/a/{assessment_id}/results", headers={"Cookie": cookie})
            for conn in connections:
                response = conn.getresponse()
                response.read()
                assert response.status == 200
        inodes = _sockets(port, "01")
        held = sorted(_held_by(worker, inodes) for worker in _children(server.pid))
        for conn in connections:
            conn.close()
    finally:
        stop(server)
    assert sum(held) == CONNECTIONS
    # The kernel hashes each connection to a socket: 6 or fewer of 32 on either worker has a
    # chance of about 1 in 1,900. On one shared socket, all 32 went to one worker in most runs.
    assert held[0] > CONNECTIONS // 5, f"connections per worker: {held}"


def test_serve_refuses_a_port_something_listens_on(tmp_path):
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # even one that would share it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sovready = shutil.which("sovready", path=str(Path(sys.executable).parent))
        done = subprocess.run([sovready, "serve", "--port", str(port), "--instance", str(tmp_path), "--report-workers", "0"],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr


def test_before_the_first_account_the_server_prints_the_setup_code(tmp_path, capsys):
    app = create_app(instance_path=tmp_path)
    server.announce(app, "127.0.0.1", 8000)
    code = (tmp_path / "setup_code").read_text().strip()
    assert f"open http://127.0.0.1:8000/setup and give the setup code {code} (also in {tmp_path}/setup_code)" \
        in capsys.readouterr().out
    accounts.create_user(storage.connect(app.config["DATABASE"]), "ada@example.org", "Ada", "a long test password")
    server.announce(create_app(instance_path=tmp_path), "127.0.0.1", 8000)
    assert "setup" not in capsys.readouterr().out


def test_the_access_log_line_is_in_the_combined_format(monkeypatch, caplog):
    def app(environ, start_response):
        start_response("404 NOT FOUND", [("Content-Type", "text/html"), ("Content-Length", "207")])
        return [b"not found"]

    monkeypatch.setattr(server.time, "strftime", lambda fmt: "[26/Nov/2026:15:53:52 +0000]")
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/a/\xc3\xa9 x", "QUERY_STRING": "y=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.7", "HTTP_REFERER": "https://example.org/",
               "HTTP_USER_AGENT": "Firefox"}  # the path as WSGI gives it: UTF-8 bytes decoded as Latin-1
    with caplog.at_level(logging.INFO, logger="sovready.access"):
        assert server.AccessLog(app)(environ, lambda *args: None) == [b"not found"]
    assert caplog.messages == [
        '192.0.2.7 - - [26/Nov/2026:15:53:52 +0000] "GET /a/%C3%A9%20x?y=1 HTTP/1.1" 404 207 "https://example.org/" "Firefox"']


@pytest.mark.parametrize(("path", "referrer", "logged"), [
    ("/invite/Kq3-secret", "-", '"GET /invite/[redacted] HTTP/1.1" 200 9 "-"'),
    ("/portfolio-invite/Kq3-secret", "-", '"GET /portfolio-invite/[redacted] HTTP/1.1" 200 9 "-"'),
    ("/join/ABCD-EFGH", "-", '"GET /join/[redacted] HTTP/1.1" 200 9 "-"'),
    ("/", "https://example.org/invite/Kq3-secret", '"GET / HTTP/1.1" 200 9 "https://example.org/invite/[redacted]"'),
    ("/w/5/invites/7/revoke", "-", '"GET /w/5/invites/7/revoke HTTP/1.1" 200 9 "-"'),
])
def test_the_access_log_never_shows_a_secret_link(path, referrer, logged):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_REFERER": referrer}
    assert logged in server.combined_line(environ, "200", "9")


def test_a_quote_in_a_header_cannot_add_fields_to_the_access_log_line():
    """Found by probing: a User-Agent of x" 500 0 "-" "forged was written as it came, so the line
    read as a 500 with another agent. Quotes and backslashes are escaped as nginx escapes them."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": 'q="1"', "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_REFERER": 'https://example.org/"', "HTTP_USER_AGENT": 'x" 500 0 "-" "forged\\'}
    line = server.combined_line(environ, "200", "9")
    assert line.endswith('"GET /?q=\\x221\\x22 HTTP/1.1" 200 9 "https://example.org/\\x22" '
                         '"x\\x22 500 0 \\x22-\\x22 \\x22forged\\x5C"')


def _replace_a_worker(process) -> list[int]:
    """Kill one of the server's workers; the workers once its replacement has started."""
    dead = _children(process.pid)[0]
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (dead in (workers := _children(process.pid)) or len(workers) < 2):
        time.sleep(0.05)
    assert dead not in workers and len(workers) == 2
    return workers


def test_a_worker_that_dies_is_replaced(tmp_path):
    port = free_port()
    process = start_server(tmp_path, port, workers=2, report_workers=0)
    try:
        before = _children(process.pid)
        (replacement,) = set(_replace_a_worker(process)) - set(before)
        # Until the replacement listens (it makes the app first), a new connection can be refused
        # (seen under load); once it does, every connection is served.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _held_by(replacement, _sockets(port, "0A")):
            time.sleep(0.05)
        assert _held_by(replacement, _sockets(port, "0A")), "the replacement never listened"
        assert [request(port, "GET", "/healthz")[0] for _ in range(20)] == [200] * 20
    finally:
        stop(process)


def test_a_server_stopped_while_a_worker_starts_stops_at_once(tmp_path):
    # The replacement is still making the app: before the fix it ignored the stop and the server
    # took SHUTDOWN_SECONDS (30) to exit, which stop() does not wait for.
    process = start_server(tmp_path, free_port(), workers=2, report_workers=0)
    try:
        _replace_a_worker(process)
        started = time.monotonic()
        stop(process)
    finally:
        process.kill()  # nothing left to kill once stopped
    assert process.returncode == 0
    assert time.monotonic() - started < 5


def test_serve_refuses_a_database_from_a_newer_sovready(tmp_path, monkeypatch):
    db = storage.init(tmp_path / "sovready.db")
    db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
               "VALUES ('sovready', '999_from_the_future', '2030-01-01')")
    db.close()
    monkeypatch.setattr(server, "Granian", lambda *args, **kwargs: pytest.fail("served a database it does not know"))
    result = CliRunner().invoke(cli, ["serve", "--port", str(free_port()), "--instance", str(tmp_path),
                                      "--report-workers", "0"])
    assert (result.exit_code, result.stderr) == (2, f"Error: {tmp_path / 'sovready.db'}: made by a newer sovready "
                                                    "(migrations unknown to this one: 999_from_the_future): "
                                                    "upgrade sovready first\n")


def test_the_instance_folder_serve_makes_is_the_owners_alone(tmp_path, monkeypatch):
    """Found following README.md's `make run`: the server marks the database open before it makes
    the app, and that mark made the instance folder with the usual umask (0755), so the app's own
    0700 came too late and every account on the machine could read the database
    (docs/operations.md promises 0700)."""
    monkeypatch.setattr(server, "Granian", lambda *args, **kwargs: SimpleNamespace(serve=lambda **kwargs: None))
    monkeypatch.setattr(server, "refuse_taken_port", lambda host, port: None)
    monkeypatch.setattr(server.os, "register_at_fork", lambda **kwargs: None)  # this test process forks on
    instance = tmp_path / "instance"
    result = CliRunner().invoke(cli, ["serve", "--instance", str(instance), "--report-workers", "0"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert "other accounts" not in result.output


def test_serve_warns_of_an_instance_folder_other_accounts_can_read(tmp_path, monkeypatch):
    """A folder an earlier serve made (0755), or one the operator made with the umask: the server says
    so at each start, and leaves the folder as it is (an operator may share it on purpose)."""
    monkeypatch.setattr(server, "Granian", lambda *args, **kwargs: SimpleNamespace(serve=lambda **kwargs: None))
    monkeypatch.setattr(server, "refuse_taken_port", lambda host, port: None)
    monkeypatch.setattr(server.os, "register_at_fork", lambda **kwargs: None)
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)  # whatever this test process's umask
    result = CliRunner().invoke(cli, ["serve", "--instance", str(instance), "--report-workers", "0"])
    assert result.exit_code == 0, result.output
    assert (f"sovready: warning: other accounts on this machine can open {instance} (mode 755), which holds "
            f"the database: chmod 700 {instance}") in result.output
    assert stat.S_IMODE(instance.stat().st_mode) == 0o755


def test_the_server_says_that_it_started_the_pdf_worker(tmp_path, monkeypatch, capsys):
    """Found following README.md: `make run` printed where it served and the setup code, but
    nothing showed that the PDF worker it promises had started, short of `ps`."""
    monkeypatch.setattr(server.subprocess, "Popen", lambda command, **options: SimpleNamespace(pid=4321))
    monkeypatch.setattr(server.ReportWorker, "supervise", lambda worker: None)
    monkeypatch.setattr(server.atexit, "register", lambda stop: None)
    server.start_report_worker(tmp_path, 2)
    assert "sovready: PDF worker started (2 processes, pid 4321)" in capsys.readouterr().out


def _report_worker(server_pid: int) -> int:
    """The pid of the server's PDF worker, once it runs."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # Of any of its threads: a restarted worker is the child of the thread that supervises it.
        for pid in (int(p) for task in Path(f"/proc/{server_pid}/task").iterdir()
                    for p in (task / "children").read_text().split()):
            if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return pid
        time.sleep(0.05)
    raise AssertionError("no PDF worker")


def _gone(pid: int) -> bool:
    """Whether the process has ended (reaped, or a zombie that no longer runs)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def _wait_for(check, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still not {what}"
        time.sleep(0.05)


def test_the_server_restarts_its_pdf_worker_when_it_exits_and_says_so(tmp_path):
    """Found by killing the worker as the OOM killer would: the server went on serving, every report
    stayed queued, and nothing said why."""
    process = start_server(tmp_path, free_port(), workers=1, report_workers=1)
    log = tmp_path / "server.log"
    try:
        first = _report_worker(process.pid)
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: "PDF worker restarted" in log.read_text(), "restarted")
        assert ("sovready: the PDF worker exited (killed by SIGKILL): PDF reports wait until it runs again; "
                "restarting it in 1 s\n") in log.read_text()
        second = _report_worker(process.pid)
        assert second != first and f"sovready: PDF worker restarted (pid {second})\n" in log.read_text()
        # Ctrl-C at the terminal (SIGINT to the foreground process group, as `make run` gets it) stops it all.
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) == 0
        _wait_for(lambda: _gone(second), "stopped with the server")
        assert log.read_text().count("PDF worker restarted") == 1  # stopped by the server: not restarted
    finally:
        process.kill()


def test_the_pdf_worker_stops_when_the_server_that_started_it_is_killed(tmp_path):
    """Found by killing the server with SIGKILL: its PDF worker, in a session of its own, went on
    rendering and kept the database open, so that a restore was refused until someone found it."""
    process = start_server(tmp_path, free_port(), workers=1, report_workers=1)
    worker = _report_worker(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the master and its web workers, as `kill -9` would
        process.wait(10)
        _wait_for(lambda: _gone(worker), "stopped with the server", seconds=30)
        assert "the server that started this PDF worker is gone: stopping" in (tmp_path / "server.log").read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker, signal.SIGKILL)


def test_behind_a_proxy_the_server_serves_under_the_prefix_it_names(tmp_path, monkeypatch):
    """A proxy serving sovready at /sovready/ passes requests on without the prefix and names it in
    X-Forwarded-Prefix (docs/operations.md): the first-run setup and its assets carry it."""
    monkeypatch.setenv("SOVREADY_PROXIES", "1")
    port = free_port()
    server = start_server(tmp_path, port, workers=1, report_workers=0)
    try:
        proxied = {"X-Forwarded-Prefix": "/sovready", "X-Forwarded-For": "192.0.2.1"}
        status, headers, _ = request(port, "GET", "/", headers=proxied)
        _, _, page = request(port, "GET", "/setup", headers=proxied)
        _, _, at_root = request(port, "GET", "/setup")
    finally:
        stop(server)
    assert status == 302 and headers["Location"] == "/sovready/setup"
    assert 'href="/sovready/static/app.css?v=' in page
    assert 'href="/static/app.css?v=' in at_root  # a request without the header: served at the root


def _serve_at_a_terminal(instance: Path, port: int) -> tuple[int, int]:
    """``sovready serve`` as `make run` starts it from a shell at a terminal: the pid, and the
    terminal's side that types into it. SIGINT as the shell leaves it (not ignored, not blocked)."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: become the server
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        exe = shutil.which("sovready", path=str(Path(sys.executable).parent))
        os.execv(exe, [exe, "serve", "--port", str(port), "--instance", str(instance), "--report-workers", "1"])  # noqa: S606
    return pid, terminal


def _read_until_exit(pid: int, terminal: int, seconds: float = 120) -> tuple[int, str]:
    """What the server writes to its terminal until it exits, and its exit status."""
    output, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([terminal], [], [], 0.1)[0]:
            with contextlib.suppress(OSError):  # EIO once the last process on the terminal has closed it
                output += os.read(terminal, 1 << 16)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), output.decode(errors="replace")
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"the server did not stop: {output.decode(errors='replace')[-2000:]}")


def test_ctrl_c_at_the_terminal_stops_the_server_its_workers_and_its_pdf_worker(tmp_path):
    """Found stopping `make run` with Ctrl-C at a real terminal: SIGINT reaches the whole process
    group, and a web worker that got it beside the master's SIGTERM refused to stop until the
    master killed it SHUTDOWN_SECONDS later."""
    port = free_port()
    pid, terminal = _serve_at_a_terminal(tmp_path, port)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            time.sleep(0.1)
        worker = _report_worker(pid)
        os.write(terminal, b"\x03")  # Ctrl-C
        status, output = _read_until_exit(pid, terminal)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.close(terminal)
    assert status == 0
    assert "refused to gracefully stop" not in output and "Granian shutdown completed" in output
    _wait_for(lambda: _gone(worker), "the PDF worker stopped with the server")
