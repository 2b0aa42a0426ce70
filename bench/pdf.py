"""PDF rendering: WeasyPrint against headless Chromium on the same HTML, and throughput.

Measured side by side in one run on a report the worker did not warm up with (unseen_report):
- median WeasyPrint render in a warm process, and through jobs.render_limited (the worker's
  path: a child forked from the warm process), each the process's first render of that report;
- median Chromium render of the same HTML, warm (one browser and page reused, through
  Playwright driving Debian's /usr/bin/chromium), and the ratio of the two;
- PDFs per minute with two worker processes, the way `sovready worker` renders: the worker
  warms up once (jobs.warm_up), forks its two processes, and each renders every report in a
  child forked by jobs.render_limited.

    .venv/bin/python -m bench.pdf [RUNS]

Targets on a 2-core machine: median under 1.0 s, WeasyPrint at most twice Chromium's time,
at least 100 PDFs per minute with two workers.
"""

import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from assessment import pdf_text
from assessment.answers import load_answers
from assessment.jobs import render_limited, warm_up
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.pdf import ASSET_BASE, STATIC, render_html, render_pdf
from assessment.peers import load_peers
from assessment.report import Report, report_date
from assessment.rubric import load_rubric, peers_path
from assessment.scoring import score
from bench import arguments

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def unseen_report() -> Report:
    """A report the worker's warm-up does not render, so that its lines are not all remembered
    (jobs.warm_up renders the bundled examples): the mid-maturity example's answers each moved two
    levels on (round from 4 to 0), the words of its notes in reverse order, another organization."""
    rubric = load_rubric(DEFAULT_RUBRIC)
    peers = load_peers(peers_path(DEFAULT_RUBRIC, rubric.peers))
    example = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    answers = replace(example, organization="Unseen Logistics (bench)", answers={
        qid: replace(answer, value=(answer.value + 2) % 5 if isinstance(answer.value, int) else answer.value,
                     note=" ".join(reversed(answer.note.split())))
        for qid, answer in example.answers.items()})
    return Report(rubric, answers, score(rubric, answers, peers), peers, report_date("1767225600"))


def forgetting_all_but_the_warm_up() -> Callable[[], None]:
    """A function that forgets the lines remembered since now (the warm-up's are kept), so that each
    timed render of the unseen report is its first in the process and its children, as in the worker."""
    kept = dict(pdf_text._remembered_lines)

    def forget() -> None:
        pdf_text._remembered_lines.clear()
        pdf_text._remembered_lines.update(kept)
    return forget


def timed(fn, runs: int, before: Callable[[], None] = lambda: None) -> list[float]:
    before()
    fn()  # warm up: fonts, templates, calibrations
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def chromium_times(html: str, runs: int) -> list[float] | None:
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        # Serve the report's assets the same way WeasyPrint's fetcher does, never the network.
        page.route(f"{ASSET_BASE}**", lambda route: route.fulfill(
            path=str(STATIC / route.request.url.removeprefix(ASSET_BASE))))
        page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(ASSET_BASE)
                   else route.fallback())

        def render():
            page.set_content(html.replace("</head>", f'<link rel="stylesheet" href="{ASSET_BASE}report.css"></head>'))
            page.pdf(format="A4", print_background=True)

        times = timed(render, runs)
        browser.close()
    return times


def _worker(report: Report, count: int) -> None:
    for _ in range(count):
        render_limited(partial(render_pdf, report))


def pdfs_per_minute(workers: int, per_worker: int, forget: Callable[[], None]) -> float:
    forget()
    report = unseen_report()
    context = multiprocessing.get_context("fork")  # as Huey's process workers
    processes = [context.Process(target=_worker, args=(report, per_worker)) for _ in range(workers)]
    start = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return workers * per_worker / (time.perf_counter() - start) * 60


def main():
    (runs,) = arguments(__doc__, 7)
    warm_up()
    forget = forgetting_all_but_the_warm_up()
    report = unseen_report()
    weasy = statistics.median(timed(lambda: render_pdf(report), runs, forget))
    print(f"WeasyPrint, warm, a report the warm-up did not render: median {weasy:.3f} s over {runs} runs "
          "(target < 1.0 s)")
    # What the worker pays per report: the render in a child forked from this warm process.
    forked = statistics.median(timed(lambda: render_limited(partial(render_pdf, report)), runs, forget))
    print(f"the same through jobs.render_limited (a forked child, as the worker renders): median {forked:.3f} s")
    chromium = chromium_times(render_html(report), runs)
    if chromium is None:
        print(f"Chromium: {CHROMIUM} not installed, comparison skipped")
    else:
        median = statistics.median(chromium)
        print(f"Chromium, warm, same HTML: median {median:.3f} s")
        print(f"ratio WeasyPrint / Chromium: {weasy / median:.2f} (target <= 2)")
    print(f"PDFs per minute with two workers: {pdfs_per_minute(2, max(3, runs), forget):.0f} (target >= 100)")


if __name__ == "__main__":
    main()
