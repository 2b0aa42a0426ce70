"""Every route of the app, found from its URL map: none fails, every POST needs a CSRF token."""

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
             "agency_id": 1}
# Pages of things that do not exist in the scenario (no earlier round, no workshop, no portfolio;
# tests/web/test_workshops.py and test_portfolios.py render those).
MISSING = ("auth.setup", "workspaces.invite", "journey.compare_rounds", "workshops.dashboard",
           "participate.join_code", "participate.home", "participate.dimension",
           "portfolios.dashboard", "portfolios.agencies", "portfolios.agency", "portfolios.export_csv",
           "portfolios.export_json", "portfolios.export_pdf", "portfolios.report", "portfolios.join")


def _rules():
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"TESTING": True}, instance_path=instance)
    return sorted((rule.endpoint, method) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def _url(app, endpoint, assessment_id):
    with app.test_request_context():
        return url_for(endpoint, **{**ARGUMENTS, "assessment_id": assessment_id})


@pytest.mark.parametrize("endpoint, method", [r for r in _rules() if r[1] == "GET"])
def test_every_page_answers_without_error(owner, finished, app, endpoint, method):
    response = owner.get(_url(app, endpoint, finished))
    # 404: setup once an account exists, an invitation that does not exist, no earlier round.
    expected = 404 if endpoint in MISSING else 200
    assert response.status_code in (expected, 302), text(response)[:500]
    response.close()


@pytest.mark.parametrize("endpoint, method", [r for r in _rules() if r[1] == "POST"])
def test_every_post_without_a_csrf_token_is_refused(owner, finished, app, endpoint, method, db):
    response = owner.post(_url(app, endpoint, finished), data={}, csrf=False)
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM assessments").fetchone()[0] == 1


def test_no_two_routes_share_a_url_pattern(app):
    """Two blueprints claiming one pattern (say /join/<x>) would make one of them unreachable."""
    seen = {}
    for rule in app.url_map.iter_rules():
        shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (shape, method) not in seen, f"{rule.endpoint} and {seen[(shape, method)]} share {shape} {method}"
            seen[(shape, method)] = rule.endpoint
