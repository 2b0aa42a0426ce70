"""Running the app under gunicorn, the production WSGI server, from ``sovready serve``."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from . import create_app

THREADS = 4


class BalancedWorker(ThreadWorker):
    """gunicorn's threaded worker, accepting a new connection only while one of its threads is idle.

    The stock worker accepts whenever its listening socket is readable, and a keep-alive
    connection stays with the worker that accepted it: under 32 clients one worker held 28
    connections and the other 4, so requests on the crowded one waited up to a second while
    the other's core idled (bench/web.py). Leaving a connection in the shared queue until some
    worker has a thread for it spreads them by capacity, as gunicorn's sync workers do.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight = 0  # requests handed to the thread pool and not yet finished

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self.in_flight < self.cfg.threads)

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)
        if self.in_flight >= self.cfg.threads:
            super().set_accept_enabled(False)  # run() enables it again once a thread is free

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)


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


def run(host: str, port: int, instance: Path, workers: int, report_workers: int = 2) -> None:
    """Create the app (migrating the database) once, start the PDF worker, serve with gunicorn."""
    app = create_app(instance_path=instance)
    if report_workers:
        start_report_worker(instance, report_workers)
    print(f"sovready: serving on http://{host}:{port} (database {app.config['DATABASE']})")
    _Server(app, {"bind": f"{host}:{port}", "workers": workers, "worker_class": f"{__name__}.BalancedWorker",
                  "threads": THREADS, "accesslog": "-", "timeout": 60}).run()
