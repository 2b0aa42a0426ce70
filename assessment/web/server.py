"""Running the app under gunicorn, the production WSGI server, from ``sovready serve``."""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from . import create_app

# 2 processes of 4 threads on this project's 2-core machine. Measured side by side with 4 x 2,
# 3 x 4 and 5 x 2 (wrk, 32 clients, the layouts taking turns): the same throughput, and the best
# p95 of the pages; under 200 workshop participants 5 x 2 tripled the p95 (bench/workshop.py),
# as more processes share the cores among more unevenly filled keep-alive queues.
WORKERS = 2
THREADS = 4  # per worker process


class _AccessLog(Logger):
    """gunicorn's logger, gathering only the fields of its access-log line (the combined format,
    gunicorn's default). gunicorn's own gathers every request header, response header and
    environ variable as well, for each request: 47 µs a line rather than 19 µs, when all of a
    trivial request takes about 700 µs of the server's CPU."""

    def atoms(self, resp, req, environ, request_time):
        return {"h": environ.get("REMOTE_ADDR", "-"), "l": "-", "u": self._get_user(environ) or "-", "t": self.now(),
                "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
                "s": str(resp.status).split(None, 1)[0], "b": "-" if resp.sent is None else str(resp.sent),
                "f": environ.get("HTTP_REFERER", "-"), "a": environ.get("HTTP_USER_AGENT", "-")}


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def start_report_worker(instance: Path, workers: int) -> subprocess.Popen:
    """``sovready worker`` beside the web server, stopped when the server's master process exits.

    A separate program rather than a multiprocessing child: gunicorn forks its workers from this
    process, and they must neither own nor join the PDF worker.
    """
    command = [sys.executable, "-m", "assessment", "worker", "--instance", str(instance), "--workers", str(workers)]
    process = subprocess.Popen(command)  # noqa: S603 (our own command line)
    master = os.getpid()
    atexit.register(lambda: os.getpid() == master and process.terminate())
    return process


def refuse_taken_port(host: str, port: int) -> None:
    """Exit with a clear message if something already listens on ``host:port``.

    The workers bind with SO_REUSEPORT (see ``run``), which would let a second server started
    by the same user on the same port bind too and silently take some of the connections.
    """
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no owner
        try:
            probe.bind(address)
        except OSError as error:
            raise SystemExit(f"sovready: cannot listen on {host}:{port}: {error.strerror}") from None


def run(host: str, port: int, instance: Path, workers: int | None = None, report_workers: int = 2) -> None:
    """Create the app (migrating the database) once, start the PDF worker, serve with gunicorn.

    Each worker listens on a socket of its own (``reuse_port``) and the kernel spreads new
    connections over them. On one shared socket, the worker that woke first accepted a burst of
    keep-alive connections and kept them: under 32 clients one worker held all 32 in three runs
    of four (seen with ss), its queue long while the other worker's core idled.
    """
    refuse_taken_port(host, port)
    app = create_app(instance_path=instance)
    if report_workers:
        start_report_worker(instance, report_workers)
    print(f"sovready: serving on http://{host}:{port} (database {app.config['DATABASE']})")
    _Server(app, {"bind": f"{host}:{port}", "workers": workers or WORKERS, "worker_class": "gthread",
                  "threads": THREADS, "reuse_port": True, "accesslog": "-", "logger_class": _AccessLog,
                  "timeout": 60}).run()
