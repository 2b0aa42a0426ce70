"""The production server spreads keep-alive connections over its workers (server.BalancedWorker).

gunicorn's stock threaded worker let one worker take most of a burst of new connections and
keep them; requests on the crowded worker then queued while the other worker's core idled.
"""

import http.client
import os
import threading
from pathlib import Path

from bench.web import free_port, log_in, request, seed, start_server, stop

CONNECTIONS = 32


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _established(port: int) -> set[str]:
    """Socket inodes of the server's side of established TCP connections on ``port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
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
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(CONNECTIONS)]
        start = threading.Barrier(CONNECTIONS)

        def results_page(conn):
            start.wait()
            for _ in range(20):
                assert request(port, "GET", f"/a/{assessment_id}/results", headers={"Cookie": cookie}, conn=conn)[0] == 200

        threads = [threading.Thread(target=results_page, args=(conn,)) for conn in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        inodes = _established(port)
        held = sorted(_held_by(worker, inodes) for worker in _children(server.pid))
        for conn in connections:
            conn.close()
    finally:
        stop(server)
    assert sum(held) == CONNECTIONS
    assert held[0] >= CONNECTIONS // 4, f"connections per worker: {held}"
