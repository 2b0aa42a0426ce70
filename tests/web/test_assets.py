"""The stylesheet and script under addresses that name their content, kept by browsers for a year."""

import re

from assessment.web import create_app
from assessment.web.assets import versions

from .conftest import text


def _linked(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_link_the_static_files_by_their_digest_and_those_addresses_are_kept_a_year(owner, finished):
    linked = _linked(text(owner.get(f"/a/{finished}/results")))
    assert [address.split("?")[0] for address in linked] == ["/static/favicon.svg", "/static/app.css", "/static/app.js"]
    for address in linked:
        assert re.search(r"\?v=[0-9a-f]{12}$", address)
        with owner.get(address) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_pages_name_their_icon_so_that_browsers_do_not_ask_for_a_missing_one(owner, finished):
    """Without one, each browser asked for /favicon.ico: a 404 that the security log recorded as a
    refused request, 22 of the 23 'refused' lines of one journey."""
    assert re.search(r'<link rel="icon" href="/static/favicon.svg\?v=[0-9a-f]{12}" type="image/svg\+xml">',
                     text(owner.get(f"/a/{finished}/results")))


def test_an_address_without_the_current_digest_is_served_but_checked_each_time(client):
    """A page cached before an upgrade links the old digest: it gets the new file, not kept."""
    for address in ("/static/app.css", "/static/app.css?v=000000000000"):
        with client.get(address) as response:
            assert response.status_code == 200 and "sovready" in response.get_data(as_text=True)
            assert response.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/missing.css?v=000000000000").status_code == 404


def test_the_digest_changes_with_the_content(tmp_path):
    (tmp_path / "fonts").mkdir()
    (tmp_path / "app.css").write_text("a {}")
    (tmp_path / "fonts" / "x.woff2").write_bytes(b"\0")
    before = versions(tmp_path)
    assert set(before) == {"app.css", "fonts/x.woff2"}
    (tmp_path / "app.css").write_text("b {}")
    after = versions(tmp_path)
    assert after["app.css"] != before["app.css"] and after["fonts/x.woff2"] == before["fonts/x.woff2"]


def test_the_development_server_links_files_without_a_digest(tmp_path, monkeypatch):
    """Under `flask --debug` a file edited while it runs must not keep its old digest."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    page = text(create_app({"TESTING": True}, instance_path=tmp_path).test_client().get("/setup"))
    assert _linked(page) == ["/static/favicon.svg", "/static/app.css", "/static/app.js"]
