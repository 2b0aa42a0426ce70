"""Served under a path prefix behind a reverse proxy (docs/operations.md): with SOVREADY_PROXIES set,
the proxy names the prefix in X-Forwarded-Prefix and every link, redirect and key app.js uses carries it."""

import re

import pytest

from assessment import accounts, portfolios, workshops
from assessment.web import create_app

from .conftest import OUTSIDER, OWNER, PASSWORD, CSRFClient, stored_form, text
from .test_portfolios import two_agencies  # noqa: F401 (a fixture)

PREFIX = "/sovready"


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "PROXIES": 1}, instance_path=tmp_path / "instance")
    app.test_client_class = CSRFClient
    return app


def proxied(client):
    """The client's requests as the proxy passes them on, the prefix taken off their path."""
    client.environ_base["HTTP_X_FORWARDED_PREFIX"] = PREFIX
    return client


def _paths(page: str) -> list[str]:
    """Every address the page names on this site."""
    return re.findall(r'(?:href|src|action|data-[a-z-]+|content)="(/[^"]*)"', page)


def test_the_pages_links_assets_and_forms_carry_the_prefix(app, owner, finished):
    page = text(proxied(owner).get(f"/a/{finished}/results"))
    paths = _paths(page)
    assert f"{PREFIX}/static/app.js?v=" in page and f'action="{PREFIX}/logout"' in page
    assert paths and all(path.startswith(PREFIX + "/") for path in paths), paths


def test_without_the_header_the_app_is_served_at_the_root(app, owner, finished):
    assert 'action="/logout"' in text(owner.get(f"/a/{finished}/results"))


def test_a_save_redirects_under_the_prefix_and_names_the_page_for_app_js(owner, finished):
    response = proxied(owner).post(f"/a/{finished}/dimensions/data", data={"data.residency-value": "4", "go": "stay"})
    page = f"{PREFIX}/a/{finished}/dimensions/data"
    assert response.location == page + "#main"
    assert f'<meta name="draft-saved" content="{page}">' in text(owner.get(response.location[len(PREFIX):]))


def test_log_in_leads_back_to_the_page_under_the_prefix(app, people, finished):
    """Found by an audit: ``next`` is a path in the app, and log-in redirected to it without the prefix."""
    client = proxied(app.test_client())
    page = f"/a/{finished}/results"
    to_login = client.get(page)
    assert to_login.location == f"{PREFIX}/login?next={PREFIX}{page}"
    assert f'data-draft-for="{PREFIX}{page}"' in text(client.get(to_login.location[len(PREFIX):]))
    logged_in = client.post(f"/login?next={PREFIX}{page}", data={"email": OWNER, "password": PASSWORD})
    assert logged_in.location == PREFIX + page
    assert proxied(app.test_client()).post("/login", data={"email": OWNER, "password": PASSWORD}).location \
        == f"{PREFIX}/"


def test_first_run_setup_redirects_under_the_prefix(app):
    assert proxied(app.test_client()).get("/").location == f"{PREFIX}/setup"


def test_error_pages_link_under_the_prefix(app, owner, finished):
    page = text(proxied(owner).get("/no-such-page"))
    assert f'<a href="{PREFIX}/">Back to the start</a>' in page
    refused = proxied(app.test_client()).post(f"/a/{finished}/about", data={"title": "x"}, csrf=False)
    assert f'href="{PREFIX}/login?next={PREFIX}/a/{finished}/about"' in text(refused)
    assert f'data-draft-for="{PREFIX}/a/{finished}/about"' in text(refused)


def test_invitation_workshop_and_agency_links_carry_the_full_address(db, owner, editor, people, workshop, portfolio):
    members = text(proxied(owner).post(f"/w/{people['workspace']}/members", data={"role": "editor"}))
    assert f"http://localhost{PREFIX}/invite/" in members
    dashboard = text(proxied(editor).get(f"/workshops/{workshop}"))
    assert f"http://localhost{PREFIX}/join/{workshops.get_workshop(db, workshop).join_code}" in dashboard
    agencies = text(owner.post(f"/portfolios/{portfolio}/agencies", data={"name": "Statistics office"}))
    assert f"http://localhost{PREFIX}/portfolio-invite/" in agencies


def test_a_change_refused_in_a_closed_round_returns_under_the_prefix(app, db, people, portfolio, two_agencies,  # noqa: F811
                                                                   default_rubric):
    """Found by an audit: the refusal redirected to the page's path without the prefix."""
    _, assessment = two_agencies[0]
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    client = proxied(app.test_client().login("outsider@example.org"))
    page = f"/a/{assessment}/dimensions/data"
    assert client.post(page, data=stored_form(db, assessment, "data")).location == PREFIX + page


def test_log_in_from_an_invitation_returns_to_it_under_the_prefix(app, db, people):
    token = accounts.create_invite(db, people["workspace"], "viewer", people["owner"], 1)
    client = proxied(app.test_client())
    invitation = f"{PREFIX}/invite/{token}"
    assert f'href="{PREFIX}/login?next={invitation}"' in text(client.get(f"/invite/{token}"))
    logged_in = client.post(f"/login?next={invitation}", data={"email": OUTSIDER, "password": PASSWORD})
    assert logged_in.location == invitation
