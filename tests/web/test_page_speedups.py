"""What pages reuse between requests to be fast: whole pages, signed CSRF tokens, built URLs.
Reuse must never show a stale page, hand one session's token to another, or a URL built for one
mount path to another."""

import re
import time

from flask import g, request
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer

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
    _page(owner, url)  # the session's first token, signed as its secret is made (log-in clears it)
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


def test_a_form_built_for_a_post_reuses_the_token_rather_than_signing_one(owner, finished, monkeypatch):
    _fixed_clock(monkeypatch, 30_000_000)
    url = f"/a/{finished}/dimensions/data"
    token = _token(_page(owner, url)) and _token(_page(owner, url))  # the session's first, then reused
    signed = []

    class Signer(URLSafeTimedSerializer):
        def dumps(self, *args, **kwargs):
            signed.append(1)
            return super().dumps(*args, **kwargs)

    monkeypatch.setattr("flask_wtf.csrf.URLSafeTimedSerializer", Signer)
    g.pop("csrf_token", None)
    refused = text(owner.post(url, data={"csrf_token": token, "data.residency-value": "7"}, csrf=False))
    assert "Not a valid choice" in refused and _token(refused) == token and signed == []


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
    assert len(tokens) >= 2 and len(set(tokens)) == 1  # log out, new round (delete asks on a page of its own)


def test_urls_follow_the_path_the_app_is_mounted_at(owner, finished):
    mounted = text(owner.get(f"/a/{finished}/results", base_url="http://localhost/sovready"))
    plain = text(owner.get(f"/a/{finished}/results"))
    assert f'href="/sovready/a/{finished}/dimensions/data"' in mounted
    assert f'href="/a/{finished}/dimensions/data"' in plain and "/sovready/" not in plain


def _cached_pages(app) -> int:
    return len(app.extensions["sovready.caches"]["pages"]._entries)


def test_a_page_opened_again_comes_whole_from_the_cache_with_the_sessions_token(app, owner, finished, monkeypatch):
    from assessment.web.pagecache import TOKEN_STAND_IN

    url = f"/a/{finished}/dimensions/data"
    _page(owner, url)  # the session's first token, signed as its secret is made (log-in clears it)
    _fixed_clock(monkeypatch, 30_000_000)  # the reused token is then the same one for both pages
    first = _page(owner, url)
    assert _cached_pages(app) == 1
    second = _page(owner, url)
    assert second == first and _cached_pages(app) == 1
    assert TOKEN_STAND_IN not in second and _token(second) in second


def test_two_sessions_of_one_person_share_the_page_but_not_the_token(app, people, owner, finished):
    from .conftest import OWNER

    other = app.test_client().login(OWNER)
    url = f"/a/{finished}/dimensions/data"
    mine, theirs = _token(_page(owner, url)), _token(_page(other, url))
    assert mine != theirs and _cached_pages(app) == 1
    for client, token in ((owner, mine), (other, theirs)):
        g.pop("csrf_token", None)
        assert client.post(url, data={"csrf_token": token, "go": "stay"}, csrf=False).status_code == 302


def _chosen_level(page: str, question: str) -> str | None:
    found = re.search(rf'name="{re.escape(question)}-value" value="(\d)" checked', page)
    return found.group(1) if found else None


def test_a_change_by_someone_else_shows_at_once(owner, editor, finished):
    url = f"/a/{finished}/dimensions/data"
    before = _chosen_level(_page(owner, url), "data.residency")
    assert before is not None and before != "4"
    assert editor.post(url, data={"go": "stay", "data.residency-value": "4"}).status_code == 302
    assert _chosen_level(_page(owner, url), "data.residency") == "4"


def test_a_new_role_shows_at_once(db, people, owner, viewer, finished):
    from assessment import accounts

    url = f"/a/{finished}/dimensions/data"
    assert "You are a viewer" in _page(viewer, url)
    accounts.set_role(db, people["workspace"], people["viewer"], "editor")
    assert "You are a viewer" not in _page(viewer, url)


def test_results_show_a_new_member_of_the_cohort_at_once(db, people, default_rubric, owner, finished):
    from assessment import records
    from assessment.answers import Answer, AnswerSet

    url = f"/a/{finished}/results"
    assert re.findall(r"This cohort has \d+", _page(owner, url)) == ["This cohort has 0"] * 2
    answers = AnswerSet(answers={q: Answer(2) for q in default_rubric.questions}, organization="Newcomer")
    records.create_assessment(db, people["workspace"], default_rubric, "Newcomer", answers=answers)
    page = _page(owner, url)
    assert re.findall(r"This cohort has \d+", page) == ["This cohort has 1", "This cohort has 0"]  # the workspace's


def test_a_flashed_message_is_shown_once_and_never_cached(owner, finished):
    response = owner.post(f"/a/{finished}/rounds", follow_redirects=True)
    assert "A new round has started" in text(response)
    assert "A new round has started" not in _page(owner, response.request.path)


def test_urls_equal_values_of_other_types_are_built_apart(app):
    from assessment.web.urls import url_for

    with app.test_request_context("/"):
        assert url_for("journey.results", assessment_id="a", auto=1) == "/a/a/results?auto=1"
        assert url_for("journey.results", assessment_id="a", auto=True) == "/a/a/results?auto=True"
        assert url_for("journey.results", assessment_id="a", auto=[1, 2]) == "/a/a/results?auto=1&auto=2"


def _open(app, cookie: str):
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        return app.session_interface.open_session(app, request)


def test_a_session_cookie_is_verified_once_and_each_request_gets_its_own_copy(app, monkeypatch):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"sid": "abc", "_flashes": [["message", "Saved."]]})
    verified = []
    real_loads = URLSafeTimedSerializer.loads
    monkeypatch.setattr(URLSafeTimedSerializer, "loads", lambda *a, **k: verified.append(1) or real_loads(*a, **k))
    first = _open(app, cookie)
    first["_flashes"].append(["message", "changed in place, as flash() does"])
    second = _open(app, cookie)
    assert second == {"sid": "abc", "_flashes": [["message", "Saved."]]} and len(verified) == 1
    assert _open(app, cookie[:-2] + "xx") == {}  # a forged signature is still refused


def test_a_remembered_session_cookie_still_expires(app, monkeypatch):
    import assessment.web.auth as auth

    cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": "abc"})
    assert _open(app, cookie) == {"sid": "abc"}
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 5
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert _open(app, cookie) == {}
