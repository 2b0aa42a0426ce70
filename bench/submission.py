"""The app's own CPU per answer submission, straight through the WSGI app (Flask's test client, no server).

A seeded instance, a logged-in owner saving the data dimension's page (with ``--workshop``, a
workshop participant who joined, saving the first dimension's), in a loop after 30 to warm up,
each save changing the evidence note (a participant's: the levels) so that each is a real one.
Prints CPU milliseconds per save; with ``--profile``, cProfile's view of the saves.

    .venv/bin/python -m bench.submission [SAVES] [--workshop] [--profile | --callgrind]

Instructions per save (docs/web.md), counting the saves alone, not the start-up:

    valgrind --tool=callgrind --toggle-collect='*qsort_r' .venv/bin/python -m bench.submission 20 --callgrind

``--callgrind`` runs the saves inside libc's qsort (comparing two numbers once, through ctypes),
so that ``--toggle-collect`` counts them alone; divide the total by the number of saves.
"""

import cProfile
import ctypes
import pstats
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from assessment import workshops
from bench import arguments
from bench.web import PASSWORD, seeded_instance

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
WARM_UP = 30


def _cookie(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")).split(";")[0]


def _poster(client, url: str, cookie: str) -> Callable[[dict], None]:
    """A save of ``url``'s form with this session cookie, sent unchanged every time as bench/web.py's
    clients send theirs (a browser would take the new one each response sets)."""
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

    def post(form: dict) -> None:
        response = client.post(url, data=urlencode(form), headers=headers)
        if response.status_code != 302:
            raise RuntimeError(f"a save answered {response.status_code}")
    return post


def journey(app, assessment_id: str) -> Callable[[int], None]:
    """The owner's saves of the data dimension's page (bench/web.py's answer submission)."""
    client = app.test_client(use_cookies=False)
    page = client.get("/login")
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    logged_in = client.post("/login", data={"csrf_token": token, "email": "bench@example.org", "password": PASSWORD},
                            headers={"Cookie": _cookie(page)})
    url = f"/a/{assessment_id}/dimensions/data"
    page = client.get(url, headers={"Cookie": _cookie(logged_in)})
    post = _poster(client, url, _cookie(page))  # its first form put a CSRF secret in the session
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    return lambda number: post({"csrf_token": token, "go": "stay", "data.residency-value": "3",
                                "data.residency-basis": "evidenced",
                                "data.residency-note": f"EU regions only, {number}", "data.quality-value": "2",
                                "data.inventory-value": "2", "data.sharing-value": "1"})


def participant(app, workshop_id: str, code: str, dimension) -> Callable[[int], None]:
    """A participant's saves of the first dimension's page (bench/workshop.py's answer submission)."""
    client = app.test_client(use_cookies=False)
    page = client.get(f"/join/{code}")
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    joined = client.post(f"/join/{code}", data={"csrf_token": token, "display_name": "P1"},
                         headers={"Cookie": _cookie(page)})
    post = _poster(client, f"/p/{workshop_id}/{dimension.id}", _cookie(joined))
    return lambda number: post({"csrf_token": token, **{f"{q.id}-value": str((number + i) % 5)
                                                        for i, q in enumerate(dimension.questions)}})


def seeded(folder: Path, mode: str) -> Callable[[int], None]:
    """An instance with the mid-maturity example's assessment and a workshop on it; a save of ``mode``."""
    app, db, user, rubric, assessment_id = seeded_instance(folder)
    workshop_id = workshops.create_workshop(db, assessment_id, [d.id for d in rubric.dimensions], user)
    code = workshops.get_workshop(db, workshop_id).join_code
    db.close()
    if mode == "journey":
        return journey(app, assessment_id)
    return participant(app, workshop_id, code, rubric.dimensions[0])


def in_qsort(run: Callable[[], None]) -> None:
    """``run()`` inside libc's qsort, for callgrind's --toggle-collect."""
    compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    compare = compare_type(lambda a, b: run() or 0)
    numbers = (ctypes.c_int * 2)(1, 2)
    ctypes.CDLL(None).qsort(numbers, 2, ctypes.sizeof(ctypes.c_int), compare)


def main():
    (saves,) = arguments(__doc__, 300)
    mode = "workshop" if "--workshop" in sys.argv else "journey"
    with tempfile.TemporaryDirectory() as folder:
        save = seeded(Path(folder), mode)
        for number in range(WARM_UP):
            save(-1 - number)

        def run() -> None:
            for number in range(saves):
                save(number)

        if "--callgrind" in sys.argv:
            in_qsort(run)
        elif "--profile" in sys.argv:
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(run)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        else:
            start = time.process_time()
            run()
            print(f"{mode}: {(time.process_time() - start) / saves * 1000:.2f} ms of CPU per save, {saves} saves")


if __name__ == "__main__":
    main()
