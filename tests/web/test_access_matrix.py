"""Every GET route against every role, with the expected answer; a new route must be classified.

Roles: anonymous, viewer, editor, owner (also the administrator), and a member of another
workspace. "login" means a redirect to the log-in page. Workshop and portfolio pages with real
ids are covered in test_workshops.py and test_portfolios.py; here their ids do not exist.
"""

import pytest

from .test_routes import _rules, _url

ROLES = ("anonymous", "viewer", "editor", "owner", "outsider")
LOGIN, OK = "login", 200
EXPECTED = {  # per class: the answer for each role, in ROLES order
    "public": (OK, OK, OK, OK, OK),
    "nothing-here": (404, 404, 404, 404, 404),  # bogus tokens, codes and ids; setup once done
    "nothing-here-member": (LOGIN, 404, 404, 404, 404),  # needs an account, then 404 (bogus id)
    "user": (LOGIN, OK, OK, OK, OK),
    "admin": (LOGIN, 403, 403, OK, 403),
    "member": (LOGIN, OK, OK, OK, 404),
    "writer": (LOGIN, 403, OK, OK, 404),
    "owner": (LOGIN, 403, 403, OK, 404),
}
CLASSES = {
    "public": {"static", "home.health", "auth.login", "participate.join"},
    "nothing-here": {"auth.setup", "workspaces.invite", "portfolios.join", "participate.join_code",
                     "participate.home", "participate.dimension"},
    "nothing-here-member": {"journey.compare_rounds", "workshops.dashboard", "portfolios.dashboard",
                            "portfolios.agencies", "portfolios.agency", "portfolios.export_csv",
                            "portfolios.export_json", "portfolios.export_pdf", "portfolios.report"},
    "user": {"workspaces.index", "workspaces.new", "auth.account", "home.rubric"},
    "admin": {"admin.users", "admin.rubrics"},
    "member": {"journey.results", "journey.review", "journey.about", "journey.drivers", "journey.dimension",
               "journey.barriers", "transfer.export_json", "transfer.export_answers", "transfer.export_gaps",
               "reports.status", "reports.download_pdf", "workspaces.dashboard", "portfolios.mine",
               "workspaces.members"},  # members see who else is in; changing it needs an owner
    "writer": {"journey.new", "transfer.import_answers", "workshops.index"},
    "owner": {"portfolios.index", "portfolios.new"},
}
CLASS_OF = {endpoint: name for name, endpoints in CLASSES.items() for endpoint in endpoints}
GETS = sorted(endpoint for endpoint, method in _rules() if method == "GET")


def test_every_get_route_is_classified():
    """A new page must say who may see it before the app can grow it."""
    assert sorted(set(GETS) - set(CLASS_OF)) == []
    assert sorted(set(CLASS_OF) - set(GETS)) == []


def _answer(response) -> int | str:
    response.close()  # static files are streamed: close them
    if response.status_code == 302 and "/login" in response.headers["Location"]:
        return LOGIN
    # The report download redirects to its status page until a PDF is ready: allowed.
    return OK if response.status_code == 302 else response.status_code


@pytest.mark.parametrize("endpoint", GETS)
def test_access_matrix(app, finished, client, viewer, editor, owner, outsider, endpoint):
    clients = dict(zip(ROLES, (client, viewer, editor, owner, outsider), strict=True))
    url = _url(app, endpoint, finished)
    got = tuple(_answer(clients[role].get(url)) for role in ROLES)
    assert got == EXPECTED[CLASS_OF[endpoint]], f"{endpoint} {url}: {dict(zip(ROLES, got, strict=True))}"
