"""Running the app under Granian, the production WSGI server, from ``sovready serve``."""

from __future__ import annotations

import atexit
import errno
import logging
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import quote

from granian import Granian
from granian.constants import HTTPModes, Interfaces

from .. import storage
from . import SETUP_CODE, create_app, database_path
from .security_log import PATH_SAFE, redacted

# 2 processes of 4 threads on this project's 2-core machine. Measured side by side with 2 x 2,
# 2 x 8 and 1 x 8 (wrk, 32 clients, the layouts taking turns): the best throughput and p95 of the
# pages; one process is held to one core by its interpreter lock.
WORKERS = 2
THREADS = 4  # per worker process: Granian's blocking threads, which run the WSGI app
BACKLOG = 2048
SHUTDOWN_SECONDS = 30  # for requests in flight when the server is stopped

access_log = logging.getLogger("sovready.access")
# What a client may put in the query, the referrer or the user agent but a log line may not hold
# as such: a quote would end the field early and let the client write fields of its own (a status,
# another agent). Escaped as nginx escapes them, \x22 for a quote.
UNSAFE_IN_LOG = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


class AccessLog:
    """WSGI middleware logging each request to standard output in the combined log format (what
    Apache, nginx and gunicorn write, and log analysers read). Granian's own access log has
    neither the query string nor the response's size.

    The size is the response's Content-Length ("-" for one that declares none).
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        seen = []

        def start(status, headers, exc_info=None):
            seen[:] = [status.split(None, 1)[0],
                       next((value for name, value in headers if name.lower() == "content-length"), "-")]
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        access_log.info(combined_line(environ, *seen))
        return body


def combined_line(environ: dict, status: str, size: str) -> str:
    """The request line as the client sent it (WSGI gives the path decoded, as Latin-1), secrets
    redacted in it and in the referrer (the page after an invitation sends one), and what the
    client chose escaped (``UNSAFE_IN_LOG``)."""
    target = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"),
                   safe=PATH_SAFE)
    if query := environ.get("QUERY_STRING"):
        target += "?" + query
    request_line = f'{environ["REQUEST_METHOD"]} {_escaped(redacted(target))} {environ.get("SERVER_PROTOCOL", "-")}'
    referrer = _escaped(redacted(environ.get("HTTP_REFERER", "-")))
    agent = _escaped(environ.get("HTTP_USER_AGENT", "-"))
    when = time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
    return f'{environ.get("REMOTE_ADDR", "-")} - - {when} "{request_line}" {status} {size} "{referrer}" "{agent}"'


def _escaped(text: str) -> str:
    return UNSAFE_IN_LOG.sub(lambda found: f"\\x{ord(found.group()):02X}", text)


def _log_to_stdout() -> None:
    if access_log.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def worker_app(instance: Path):
    """The app in one of the server's worker processes, behind the access log. Made in the worker
    (from what the master process migrated) so that the workers may be forked or spawned; marks
    the database open for the worker's life too, which may outlive a master that was killed."""
    _log_to_stdout()
    storage.mark_open(database_path(instance))
    return AccessLog(create_app(instance_path=instance))


def _worker_signals() -> None:
    """In a web server worker just forked: SIGTERM ends it at once (the operating system's default),
    and SIGINT never reaches it.

    Ctrl-C at a terminal sends SIGINT to the whole process group. A Granian worker that got it
    beside the master's SIGTERM sometimes never stopped (found stopping `make run` under a real
    terminal: one worker in two or three refused, and the master waited SHUTDOWN_SECONDS to kill
    it). The master alone takes SIGINT, and stops each worker with SIGTERM; blocked rather than
    ignored, since Granian sets its own handler for it once the app is made.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


# After the PDF worker exits on its own, the server waits this long before starting it again,
# doubling the wait at each exit up to the longest: a worker that cannot start at all (a library
# gone, the instance folder unreadable) is retried once a minute rather than in a tight loop. One
# that ran for the longest wait or more has the first wait again.
RESTART_WAIT = 1
RESTART_WAIT_LONGEST = 60


class ReportWorker:
    """``sovready worker`` beside the web server: started again, after a growing wait, whenever it
    exits on its own (killed by the OOM killer, a crash), saying so on stderr; stopped when the
    server's master process exits.

    A separate program rather than a multiprocessing child: the web server forks its workers
    from this process, and they must neither own nor join the PDF worker.
    """

    def __init__(self, instance: Path, workers: int):
        self.command = [sys.executable, "-m", "assessment", "worker", "--instance", str(instance),
                        "--workers", str(workers), "--stop-with", str(os.getpid())]
        self.lock = threading.Lock()  # between supervise's restart and stop
        self.stopping = False
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        # A session of its own: Ctrl-C at the terminal reaches the server, which then stops the
        # worker (``stop``), and not the worker itself, which ``supervise`` would restart.
        return subprocess.Popen(self.command, start_new_session=True)  # noqa: S603 (our own command line)

    def supervise(self) -> None:
        """Start the worker again whenever it exits, until ``stop``; in a thread of its own."""
        wait = RESTART_WAIT
        while True:
            started = time.monotonic()
            status = self.process.wait()
            if time.monotonic() - started >= RESTART_WAIT_LONGEST:
                wait = RESTART_WAIT
            with self.lock:
                if self.stopping:
                    return
            print(f"sovready: the PDF worker exited ({_exit_status(status)}): PDF reports wait until it runs "
                  f"again; restarting it in {wait} s", file=sys.stderr, flush=True)
            time.sleep(wait)
            with self.lock:
                if self.stopping:
                    return
                self.process = self._start()
            print(f"sovready: PDF worker restarted (pid {self.process.pid})", file=sys.stderr, flush=True)
            wait = min(wait * 2, RESTART_WAIT_LONGEST)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.process.terminate()
        try:
            self.process.wait(SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _exit_status(status: int) -> str:
    return f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"


def start_report_worker(instance: Path, workers: int) -> ReportWorker:
    """The PDF worker, supervised (``ReportWorker``), stopped when this process, the server's master, exits."""
    worker = ReportWorker(instance, workers)
    threading.Thread(target=worker.supervise, name="report worker", daemon=True).start()
    master = os.getpid()
    atexit.register(lambda: os.getpid() == master and worker.stop())
    print(f"sovready: PDF worker started ({workers} processes, pid {worker.process.pid})", flush=True)
    return worker


def announce(app, host: str, port: int) -> None:
    """Say where the app serves, and before the first account exists, the setup code it asks for."""
    print(f"sovready: serving on http://{host}:{port} (database {app.config['DATABASE']})", flush=True)
    warn_if_others_can_read(Path(app.config["DATABASE"]).parent)
    if code := app.config.get("SETUP_CODE"):
        print(f"sovready: no account exists yet: open http://{host}:{port}/setup and give the setup code {code} "
              f"(also in {Path(app.instance_path) / SETUP_CODE})", flush=True)


def warn_if_others_can_read(folder: Path) -> None:
    """Say so where the database's folder lets other accounts in: one an earlier serve made (0755, until
    2026-11-27) or one made with the usual umask. Left as it is: an operator may share it on purpose."""
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        print(f"sovready: warning: other accounts on this machine can open {folder} (mode {mode:o}), which "
              f"holds the database: chmod 700 {folder}", flush=True)


class CannotServe(Exception):
    """The server cannot start; ``busy`` when another server holds the port, which is no mistake in
    the command (the command line exits 1 then, and 2 otherwise)."""

    def __init__(self, message: str, busy: bool = False):
        super().__init__(message)
        self.busy = busy


def refuse_taken_port(host: str, port: int) -> None:
    """CannotServe if something already listens on ``host:port`` (``busy``), or if the address
    cannot be resolved or bound otherwise.

    Each worker listens on a socket of its own (SO_REUSEPORT, see ``run``), which would let a
    second server started by the same user on the same port bind too and silently take some of
    the connections.
    """
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise CannotServe(f"cannot listen on {host}:{port}: {error.strerror}") from None
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind(address)
        except OSError as error:
            # Busy: another server's port. Otherwise not this machine's address, or a privileged port.
            raise CannotServe(f"cannot listen on {host}:{port}: {error.strerror}",
                              busy=error.errno == errno.EADDRINUSE) from None


def run(host: str, port: int, instance: Path, workers: int | None = None, report_workers: int = 2) -> None:
    """Create the app (migrating the database) once, start the PDF worker, serve with Granian.

    Granian parses HTTP in Rust and calls the app from a few Python threads per worker process:
    against gunicorn's threaded workers (side by side, wrk, 32 clients) /healthz served 1.7 times
    the requests and the results and dimension pages 1.6 times, with a p95 of 26 and 34 ms
    rather than 42.
    On Linux each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
    connections over them: on one shared socket, the worker that woke first accepted a burst of
    keep-alive connections and kept them while the other worker's core idled.
    """
    refuse_taken_port(host, port)
    try:
        # Before the database is opened, for the process's whole life: a restore is refused meanwhile.
        storage.mark_open(database_path(instance))
        app = create_app(instance_path=instance)
    except OSError as error:  # the instance folder or its secret key cannot be made
        raise CannotServe(f"{instance}: cannot set up the instance folder: {error.strerror}") from None
    except sqlite3.Error as error:  # not a database, a folder in its place, a folder it cannot write
        raise CannotServe(f"{database_path(instance)}: cannot open the database: {error}") from None
    except storage.NewerDatabase as error:  # a downgrade, or a database copied from a newer server
        raise CannotServe(str(error)) from None
    if report_workers:
        start_report_worker(instance, report_workers)
    # A forked worker inherits the master's signal handlers, which only raise a flag that the
    # worker never reads: a worker told to stop while it was still making the app (just started,
    # or replacing one that died) carried on, and the master waited SHUTDOWN_SECONDS to kill it.
    # Until Granian sets the worker's own handlers, once the app is made, a stop signal ends the
    # worker at once: it serves nothing yet. SIGINT is the master's alone (_worker_signals).
    os.register_at_fork(after_in_child=_worker_signals)
    announce(app, host, port)
    # The target only names what the workers serve: each loads it through target_loader.
    server = Granian("assessment.web.server:worker_app", address=host, port=port, interface=Interfaces.WSGI,
                     workers=workers or WORKERS, blocking_threads=THREADS, http=HTTPModes.http1, websockets=False,
                     backlog=BACKLOG, respawn_failed_workers=True, workers_kill_timeout=SHUTDOWN_SECONDS)
    server.serve(target_loader=partial(worker_app, instance), wrap_loader=False)
