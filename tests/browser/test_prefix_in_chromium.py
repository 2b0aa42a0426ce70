"""Served under /sovready/ behind a proxy that names the prefix in X-Forwarded-Prefix (docs/operations.md):
setting up, saving, and logging in again after the session ended all stay under the prefix."""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.web import free_port, start_server, stop

from .test_drafts_in_chromium import _answer, _end_sessions, _log_in
from .test_journey_in_chromium import _set_up

pytestmark = pytest.mark.browser
PREFIX = "/sovready"


class PrefixProxy(BaseHTTPRequestHandler):
    """What a reverse proxy does for the app under PREFIX: passes a request on without the prefix and
    with X-Forwarded-Prefix, and answers any address outside it (a link that lost the prefix) 404,
    listing it in ``outside``."""

    upstream: int
    outside: list

    def _pass_on(self):
        if self.path != PREFIX and not self.path.startswith(PREFIX + "/"):
            self.outside.append(self.path)
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        upstream.request(self.command, self.path[len(PREFIX):] or "/", body or None,
                         {**headers, "X-Forwarded-Prefix": PREFIX, "X-Forwarded-For": "192.0.2.1"})
        response = upstream.getresponse()
        content = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_GET = do_POST = _pass_on

    def log_message(self, *args):  # quiet: the test says what went wrong
        pass


@pytest.fixture(scope="module")
def outside():
    return []


@pytest.fixture(scope="module")
def server(instance, outside):
    """The production server trusting one proxy, behind the proxy; the base URL the proxy serves it at."""
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOVREADY_PROXIES", "1")
        process = start_server(instance, port, workers=1)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), type("Proxy", (PrefixProxy,), {"upstream": port, "outside": outside}))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}{PREFIX}"
    proxy.shutdown()
    proxy.server_close()
    stop(process)


def test_set_up_save_and_log_in_again_under_the_prefix(page, server, instance, outside):
    _set_up(page, server, instance)
    page.get_by_role("link", name="Start the first assessment").click()
    page.get_by_label("Title").fill("Prefixed")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(f"{server}/a/*/about")
    dimension = page.url.removesuffix("/about") + "/dimensions/data"
    page.goto(dimension)
    _answer(page, "Kept under the prefix")
    _end_sessions(page, instance)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{server}/login?next=**")
    assert page.get_by_text("This browser tab has kept what you typed there").is_visible()
    _log_in(page)
    page.wait_for_url(dimension)
    page.get_by_role("button", name="Restore what you typed", exact=False).click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{dimension}#main")
    assert page.evaluate("Object.keys(sessionStorage).filter((key) => key.startsWith('draft:'))") == []
    assert outside == []  # the favicon, the styles and app.js too: every address kept the prefix
