"""Every route of the app, found from its URL map: none fails, every response carries the security
headers, every POST refuses a missing or wrong CSRF token."""

import re
import tempfile

import pytest
from flask import url_for

from assessment.web import create_app

from .conftest import text

# Values for the routes' URL parameters, naming things that exist in the `finished` scenario.
ARGUMENTS = {"workspace_id": 1, "dimension_id": "data", "user_id": 2, "invite_id": 1, "change": "disable",
             "token": "no-such-invitation", "filename": "app.css", "workshop_id": "no-such-workshop",
             "code": "NOSUCHCD", "participant_id": 1, "question_id": "data.residency", "portfolio_id": 1,
             "agency_id": 1, "rubric_id": "sovereign-ai-readiness", "version": "1.0.1"}
# Pages of things that do not exist in the scenario (no earlier round, no invitation, no workshop, no portfolio;
# tests/web/test_workshops.py and test_portfolios.py render those).
MISSING = ("auth.setup", "workspaces.invite", "workspaces.revoke", "journey.compare_rounds", "workshops.dashboard",
           "workshops.consensus_question", "workshops.close", "workshops.forget", "workshops.remove",
           "participate.join_code", "participate.home", "participate.dimension",
           "portfolios.dashboard", "portfolios.agencies", "portfolios.agency", "portfolios.export_csv",
           "portfolios.export_json", "portfolios.export_pdf", "portfolios.report", "portfolios.join")


def _rules():
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"TESTING": True}, instance_path=instance)
    return sorted((rule.endpoint, method) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def _url(app, endpoint, assessment_id, **arguments):
    """The endpoint's URL with ARGUMENTS, or the ``arguments`` given instead of them."""
    with app.test_request_context():
        return url_for(endpoint, **{**ARGUMENTS, "assessment_id": assessment_id, **arguments})


def _assert_security_headers(response, endpoint):
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-inline'" not in policy.get("style-src", "")
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Every page may show answers, names or tokens; only the app's own static files are cached.
    if endpoint != "static":
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("endpoint, method", [r for r in _rules() if r[1] == "GET"])
def test_every_page_answers_without_error_and_with_the_security_headers(owner, people, finished, app, endpoint,
                                                                           method):
    response = owner.get(_url(app, endpoint, finished, workspace_id=people["workspace"]))
    # 404: setup once an account exists, no earlier round; 410: an invitation that does not work.
    expected = (410 if endpoint == "workspaces.invite" else 404) if endpoint in MISSING else 200
    assert response.status_code in (expected, 302), text(response)[:500]
    _assert_security_headers(response, endpoint)
    response.close()


@pytest.mark.parametrize("endpoint, method", [r for r in _rules() if r[1] == "POST"])
def test_every_post_without_a_csrf_token_is_refused(owner, people, finished, app, endpoint, method, db):
    response = owner.post(_url(app, endpoint, finished, workspace_id=people["workspace"]), data={}, csrf=False)
    assert response.status_code == 400
    _assert_security_headers(response, endpoint)
    wrong = owner.post(_url(app, endpoint, finished, workspace_id=people["workspace"]), data={"csrf_token": "forged"}, csrf=False)
    assert wrong.status_code == 400
    assert db.execute("SELECT count(*) FROM assessments").fetchone()[0] == 1


def test_no_two_routes_share_a_url_pattern(app):
    """Two blueprints claiming one pattern (say /join/<x>) would make one of them unreachable."""
    seen = {}
    for rule in app.url_map.iter_rules():
        shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (shape, method) not in seen, f"{rule.endpoint} and {seen[(shape, method)]} share {shape} {method}"
            seen[(shape, method)] = rule.endpoint


def test_an_id_past_sqlites_integers_is_a_404(owner, finished, app):
    """Found by hostile-input probing: /w/99999999999999999999 reached SQLite and was an OverflowError, a 500."""
    checked = 0
    for endpoint, method in _rules():
        (rule,) = app.url_map.iter_rules(endpoint)
        for name in sorted(rule.arguments & {k for k, v in ARGUMENTS.items() if isinstance(v, int)}):
            with app.test_request_context():  # url_for refuses the number: build the URL from a stand-in
                url = url_for(endpoint, **{**ARGUMENTS, "assessment_id": finished, name: 7777777})
            url = url.replace("7777777", str(2**63))
            response = owner.open(url, method=method, data={"csrf_token": owner.csrf_token()})
            # 405 where a GET route shares the path: Werkzeug notes the method before converting the id.
            assert response.status_code in (404, 405), url
            checked += 1
    assert checked > 20
