"""The production server (gunicorn through ``sovready serve``) on a free local port, for the
tests that need a real server: the browser journeys and the kill test."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(instance: Path, port: int, workers: int = 1, report_workers: int = 2) -> subprocess.Popen:
    """``sovready serve`` in its own process group (so that one signal reaches all of it), once up."""
    exe = shutil.which("sovready", path=str(Path(sys.executable).parent))
    process = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--instance", str(instance),
                                "--workers", str(workers), "--report-workers", str(report_workers)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
    except RuntimeError:
        process.kill()
        raise
    return process


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            with urlopen(url + "/healthz", timeout=1):  # noqa: S310 (a local http URL)
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer at {url} within {seconds} s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)
    server.stderr.close()
