"""A real server (Granian through ``sovready serve``) and Debian's Chromium driven by Playwright."""

import os
from pathlib import Path

import pytest

from bench.web import free_port, start_server, stop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    # In CI the browser tests must run (.ci/run installs Chromium); elsewhere they may be skipped.
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent (apt-get install chromium); CI always runs these")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """The server's instance folder, where the first-run setup code is kept."""
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="module")
def server(instance):
    """The production server on a free port with a fresh instance; its base URL."""
    port = free_port()
    process = start_server(instance, port, workers=1)
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
