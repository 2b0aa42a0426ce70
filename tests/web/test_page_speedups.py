"""What pages reuse between requests to be fast: signed CSRF tokens and built URLs. Reuse must
never hand one session's token to another, nor a URL built for one mount path to another."""

import re

from flask import g
from flask_wtf.csrf import generate_csrf

from .conftest import text

TOKEN = re.compile(r'name="csrf_token"[^>]* value="([^"]+)"')


def _token(page: str) -> str:
    return TOKEN.search(page).group(1)


def _page(client, url: str) -> str:
    """The page as a new request in production sees it: the db fixture keeps one app context
    open, and its ``g`` (where a request keeps its token) would otherwise outlive requests."""
    g.pop("csrf_token", None)
    return text(client.get(url))


def _fixed_clock(monkeypatch, minute: int) -> None:
    import assessment.web.security as security

    monkeypatch.setattr(security, "signing_period", lambda: minute)


def test_a_session_reuses_its_signed_token_within_the_minute_and_it_validates(owner, finished, monkeypatch):
    _fixed_clock(monkeypatch, 30_000_000)
    url = f"/a/{finished}/dimensions/data"
    first, second = _token(_page(owner, url)), _token(_page(owner, url))
    assert first == second
    g.pop("csrf_token", None)
    response = owner.post(url, data={"csrf_token": second, "go": "stay", "data.residency-value": "3"}, csrf=False)
    assert response.status_code == 302


def test_a_token_is_signed_once_a_minute_and_every_one_validates(owner, finished, monkeypatch):
    import assessment.web.security as security

    signed = []
    monkeypatch.setattr(security, "generate_csrf", lambda: signed.append(1) or generate_csrf())
    url = f"/a/{finished}/dimensions/data"
    _fixed_clock(monkeypatch, 30_000_000)
    tokens = [_token(_page(owner, url)) for _ in range(3)]
    assert len(signed) == 2  # the session's first token, then the one reused within the minute
    _fixed_clock(monkeypatch, 30_000_001)
    tokens.append(_token(_page(owner, url)))
    assert len(signed) == 3
    for token in tokens:
        g.pop("csrf_token", None)
        response = owner.post(url, data={"csrf_token": token, "go": "stay"}, csrf=False)
        assert response.status_code == 302


def test_a_token_reused_for_one_session_is_never_given_to_another(owner, editor, finished, monkeypatch):
    _fixed_clock(monkeypatch, 30_000_000)
    url = f"/a/{finished}/dimensions/data"
    owners, editors = _token(_page(owner, url)), _token(_page(editor, url))
    assert owners != editors
    g.pop("csrf_token", None)
    response = editor.post(url, data={"csrf_token": owners, "go": "stay"}, csrf=False)
    assert response.status_code == 400


def test_every_form_on_a_page_carries_the_same_token(owner, finished):
    page = text(owner.get(f"/a/{finished}/results"))
    tokens = TOKEN.findall(page)
    assert len(tokens) >= 3 and len(set(tokens)) == 1  # log out, new round, delete


def test_urls_follow_the_path_the_app_is_mounted_at(owner, finished):
    mounted = text(owner.get(f"/a/{finished}/results", base_url="http://localhost/sovready"))
    plain = text(owner.get(f"/a/{finished}/results"))
    assert f'href="/sovready/a/{finished}/dimensions/data"' in mounted
    assert f'href="/a/{finished}/dimensions/data"' in plain and "/sovready/" not in plain
