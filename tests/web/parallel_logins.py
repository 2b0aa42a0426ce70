"""Wrong passwords sent at once from many threads, each with its own connection to the database,
as a threaded server's workers have: ``python -m tests.web.parallel_logins INSTANCE ATTEMPTS EMAIL``
prints the statuses as JSON.

Run in a process of its own by test_hardening.py: thirty threads leave a process's address space
too large (glibc keeps an arena per thread) for the PDF renderer's memory limit
(jobs.RENDER_MEMORY) in the render children that later tests fork from it.
"""

import json
import sys
import threading

from assessment.web import create_app

from .conftest import CSRFClient


def main(instance: str, attempts: int, email: str) -> list[int]:
    app = create_app({"TESTING": True}, instance_path=instance)
    app.test_client_class = CSRFClient
    start, statuses = threading.Barrier(attempts), []

    def guess(n):
        client = app.test_client()
        start.wait()
        statuses.append(client.post("/login", data={"email": email, "password": f"wrong password number {n}"})
                        .status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
