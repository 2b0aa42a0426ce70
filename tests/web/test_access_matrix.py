"""Every route, GET and POST, against every role, with the expected answer; a new route must be classified.

Roles: anonymous; a workshop participant (no account, only the workshop's token in the session);
a viewer, an editor and an owner of workspace 1 (the owner is not an instance administrator); an
instance administrator who is no member of workspace 1; and the owner of another workspace (who
also answers the portfolio as an agency). "login" means a redirect to the log-in page.

Every id is real (``world``): the assessment is a second round, so it has one to compare with; the
workshop has a participant; the portfolio has an agency that joined and one still invited. Each
POST is sent with a valid CSRF token and a form that is accepted where the role is allowed, to a
fresh copy of the world; a refused one (login, 403, 404) must leave every table as it was.
"""

import io
import sqlite3

import pytest

from assessment import accounts, portfolios, records, storage, workshops
from assessment.answers import load_answers
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubrics import stored_rubric
from assessment.web import create_app

from .conftest import EDITOR, PASSWORD, CSRFClient, text
from .fuzzing import refusal, snapshot
from .test_portfolios import add_agency, invite
from .test_routes import _rules, _url

ROLES = ("anonymous", "participant", "viewer", "editor", "owner", "administrator", "outsider")
LOGIN, OK = "login", 200
EXPECTED = {  # per class: the answer for each role, in ROLES order
    "public": (OK, OK, OK, OK, OK, OK, OK),
    "nothing-here": (404, 404, 404, 404, 404, 404, 404),  # setup, once an account exists
    "participant": (404, OK, 404, 404, 404, 404, 404),  # the participant's own workshop only
    "user": (LOGIN, LOGIN, OK, OK, OK, OK, OK),
    "admin": (LOGIN, LOGIN, 403, 403, 403, OK, 403),
    "member": (LOGIN, LOGIN, OK, OK, OK, 404, 404),  # the administrator is no member: 404 too
    "writer": (LOGIN, LOGIN, 403, OK, OK, 404, 404),
    "owner": (LOGIN, LOGIN, 403, 403, OK, 404, 404),
    # An agency's own action on its portfolio: workspace 1 answers in no portfolio, so its writers
    # get 404 for the world's agency (test_portfolios.py has the agency's own request).
    "agency-writer": (LOGIN, LOGIN, 403, 404, 404, 404, 404),
}
GET_CLASSES = {
    # Invitations and join codes are checked by their own token, whoever asks.
    "public": {"static", "home.health", "auth.login", "participate.join", "participate.join_code",
               "workspaces.invite", "portfolios.join"},
    "nothing-here": {"auth.setup"},
    "participant": {"participate.home", "participate.dimension"},
    # Rubric versions are the instance's: any user may start an assessment on any stored one.
    "user": {"workspaces.index", "workspaces.new", "auth.account", "home.rubric", "home.rubric_version"},
    "admin": {"admin.users", "admin.rubrics", "admin.audit", "admin.audit_export",
              "admin.disable_user",  # asking before disabling
              "admin.appoint_owner"},
    "member": {"journey.resume", "journey.results", "journey.review", "journey.about", "journey.drivers", "journey.dimension",
               "journey.barriers", "journey.compare_rounds", "transfer.export_json", "transfer.export_answers",
               "transfer.export_gaps", "reports.status", "reports.download_pdf", "workspaces.dashboard",
               "portfolios.mine", "workspaces.members",  # members see who else is in; changing it needs an owner
               "workspaces.leave"},  # asking before leaving
    "writer": {"journey.new", "transfer.import_answers", "workshops.index", "workshops.dashboard",
               "workshops.consensus_question",  # where logging in again after a consensus leads
               "journey.delete", "workshops.close", "workshops.forget", "workshops.remove"},  # asking before deleting or closing
    "owner": {"portfolios.index", "portfolios.new", "portfolios.dashboard", "portfolios.agencies",
              "portfolios.agency", "portfolios.export_csv", "portfolios.export_json", "portfolios.export_pdf",
              "portfolios.report", "audit.log", "audit.export",
              "workspaces.remove_member", "workspaces.revoke",  # asking before removing or withdrawing
              "workspaces.delete"},  # asking before deleting, with the name to type
}
POST_CLASSES = {
    # Anyone may log in, join a workshop or accept an invitation (a member already in gets a message).
    "public": {"auth.login", "participate.join", "participate.join_code", "workspaces.invite", "portfolios.join"},
    "nothing-here": {"auth.setup"},
    "participant": {"participate.dimension"},
    "user": {"auth.logout", "auth.account", "workspaces.new"},
    "admin": {"admin.rubrics", "admin.disable_user", "admin.enable_user", "admin.appoint_owner"},
    "member": {"reports.request_report",  # viewers may ask for the PDF: it changes no answer
               "workspaces.leave"},  # any member but the last enabled owner
    "writer": {"journey.new", "journey.about", "journey.drivers", "journey.dimension", "journey.barriers",
               "journey.delete", "journey.new_round", "transfer.import_answers", "workshops.index",
               "workshops.reveal", "workshops.close", "workshops.set_consensus", "workshops.forget",
               "workshops.remove", "workshops.stop_joins", "workshops.allow_joins", "workshops.new_code"},
    "owner": {"workspaces.members", "workspaces.change_role", "workspaces.remove_member", "workspaces.revoke",
              "workspaces.delete",
              "portfolios.new", "portfolios.invite_one", "portfolios.invite_csv", "portfolios.open_round",
              "portfolios.request_report", "portfolios.new_link"},
    "agency-writer": {"portfolios.start_again"},
}
GETS = sorted(endpoint for endpoint, method in _rules() if method == "GET")
POSTS = sorted(endpoint for endpoint, method in _rules() if method == "POST")
NEW_ACCOUNT = {"name": "Nina New", "email": "nina@example.org", "password": PASSWORD, "confirm": PASSWORD}


def _forms(world) -> dict:
    """A plausible, valid form per POST endpoint (built per request: uploads are read once)."""
    rubric = "{}@{}".format(*world["rubric"])
    return {
        "auth.login": {"email": EDITOR, "password": PASSWORD},
        "auth.account": {"current": PASSWORD, "password": "a new long passphrase", "confirm": "a new long passphrase"},
        "auth.setup": {**NEW_ACCOUNT, "workspace": "Another"},
        "workspaces.new": {"name": "New workspace"},
        "workspaces.members": {"role": "viewer"},
        "workspaces.change_role": {"role": "viewer"},
        "workspaces.delete": {"name": "Acme Public Agency"},
        "workspaces.invite": NEW_ACCOUNT,
        "portfolios.join": NEW_ACCOUNT,
        "participate.join": {"code": world["arguments"]["code"]},
        "participate.join_code": {"display_name": "Pat"},
        "participate.dimension": {"data.residency-value": "3"},
        "journey.new": {"title": "New review", "rubric": rubric},
        "journey.about": {"title": "Renamed review"},
        "journey.drivers": world["drivers"],
        "journey.dimension": {"data.residency-value": "3"},
        "transfer.import_answers": {"file": (io.BytesIO(b'{"rubric": "sovereign-ai-readiness"}'), "a.json")},
        "workshops.index": {"dimensions": ["data"]},
        "workshops.set_consensus": {"level": "2", "rationale": "Agreed"},
        "portfolios.new": {"name": "Second portfolio", "rubric": rubric, "round": "2027"},
        "portfolios.invite_one": {"name": "Agency C"},
        "portfolios.invite_csv": {"file": (io.BytesIO(b"name,type,size,contact\nAgency D,,,\n"), "a.csv")},
        "portfolios.open_round": {"name": "2027"},
        "admin.appoint_owner": {"email": EDITOR, "confirmed": "yes"},
        "admin.rubrics": {"file": (io.BytesIO(DEFAULT_RUBRIC.read_bytes()), "rubric.yaml")},
    }


def _build_world(db, ids) -> dict:
    """Everything a route can name, on top of the seed's people; returns the ids and tokens."""
    (rubric_id, version), = db.execute("SELECT id, version FROM rubrics").fetchall()
    rubric = stored_rubric(db, rubric_id, version)
    workspace, admin = ids["workspace"], ids["owner"]
    owner = accounts.create_user(db, "second-owner@example.org", "Sam Second", PASSWORD)
    accounts.accept_invite(db, accounts.create_invite(db, workspace, "owner", admin, 1), owner)
    administrator = accounts.create_user(db, "admin@example.org", "Ada Admin", PASSWORD, is_admin=True)
    first = records.create_assessment(db, workspace, rubric, "Spring review", created_by=admin,
                                      answers=load_answers(EXAMPLES / "mid-enterprise.yaml", rubric))
    assessment = records.start_round(db, records.get_assessment(db, first), rubric, "Autumn review", admin)
    workshop = workshops.create_workshop(db, assessment, ["data", "security"], ids["editor"])
    participant, participant_token = workshops.join(db, workshop, "Pat")
    portfolio = portfolios.create_portfolio(db, workspace, "National AI office", rubric, "2026", admin)
    agency, _ = add_agency(db, portfolio, rubric, "Agency A", ids["outsider"])
    token = accounts.create_invite(db, workspace, "viewer", admin, 72)
    gone = accounts.create_user(db, "gone@example.org", "Gus Gone", PASSWORD)
    ownerless = accounts.create_workspace(db, "Abandoned", gone)  # for an administrator to appoint an owner
    accounts.set_disabled(db, gone, True)
    (invite_id,) = db.execute("SELECT max(id) FROM invites").fetchone()
    users = {"viewer": ids["viewer"], "editor": ids["editor"], "owner": owner, "administrator": administrator,
             "outsider": ids["outsider"]}
    return {
        "rubric": (rubric_id, version), "assessment": assessment, "workshop": workshop,
        "drivers": {driver.id: rubric.default_importance for driver in rubric.drivers},
        "sessions": {role: accounts.start_session(db, user, 8) for role, user in users.items()},
        "participant_token": participant_token, "portfolio_invited": invite(db, portfolio, "Agency B"),
        "ownerless": ownerless,
        "arguments": {"workspace_id": workspace, "user_id": ids["editor"], "invite_id": invite_id, "token": token,
                      "workshop_id": workshop, "code": workshops.get_workshop(db, workshop).join_code,
                      "participant_id": participant, "portfolio_id": portfolio, "agency_id": agency["id"],
                      "question_id": "data.residency", "dimension_id": "data", "rubric_id": rubric_id,
                      "version": version},
    }


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for the whole matrix (creating one per test was half its time): each test restores the world."""
    app = create_app({"TESTING": True}, instance_path=tmp_path_factory.mktemp("matrix"))
    app.test_client_class = CSRFClient
    return app


@pytest.fixture(scope="session")
def world(seed, tmp_path_factory):
    """The seed's people and every kind of thing a URL names, built once; each test copies it."""
    path, ids = seed
    copy = tmp_path_factory.mktemp("world") / "world.db"
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    db = storage.connect(copy)
    built = _build_world(db, ids)
    db.close()
    return {**built, "path": copy}


def _restore(world, db) -> None:
    """Put the test's database back to the world as built: every cell starts from the same state."""
    with sqlite3.connect(world["path"]) as source:
        source.backup(db.conn)


@pytest.fixture
def clients(app, db, world) -> dict:
    """One browser per role: the users' sessions and the participant's token come with the world."""
    _restore(world, db)
    clients = {role: app.test_client() for role in ROLES}
    for role, token in world["sessions"].items():
        with clients[role].session_transaction() as session:
            session["sid"] = token
    with clients["participant"].session_transaction() as session:
        session["workshops"] = {world["workshop"]: world["participant_token"]}
    return clients


def _answer(response) -> int | str:
    response.close()  # static files are streamed: close them
    if response.status_code == 302 and "/login?next=" in response.headers["Location"]:
        return LOGIN
    # Accepted: a page, or a redirect (the report download redirects to its status page until ready).
    return OK if response.status_code == 302 else response.status_code


def _world_url(app, world, endpoint):
    # Two routes take a token: the workspace invitation's and the portfolio invitation's.
    pending = world["portfolio_invited"]
    token = pending.token if endpoint == "portfolios.join" else world["arguments"]["token"]
    # An administrator appoints an owner only where there is no enabled one.
    workspace = world["ownerless"] if endpoint == "admin.appoint_owner" else world["arguments"]["workspace_id"]
    # A new link is for an agency that has not joined.
    agency = pending.id if endpoint == "portfolios.new_link" else world["arguments"]["agency_id"]
    return _url(app, endpoint, world["assessment"], **{**world["arguments"], "token": token,
                                                        "workspace_id": workspace, "agency_id": agency})


def _class_of(classes: dict, endpoint: str) -> str:
    return next(name for name, endpoints in classes.items() if endpoint in endpoints)


@pytest.mark.parametrize(("classes", "routes"), [(GET_CLASSES, GETS), (POST_CLASSES, POSTS)], ids=["GET", "POST"])
def test_every_route_is_classified(classes, routes):
    """A new route must say who may use it before the app can grow it."""
    classified = {endpoint for endpoints in classes.values() for endpoint in endpoints}
    assert sorted(set(routes) - classified) == []
    assert sorted(classified - set(routes)) == []


@pytest.mark.parametrize("endpoint", GETS)
def test_get_matrix(app, db, world, clients, endpoint):
    """Each role's GET, which changes nothing, whoever asks (only wrong join codes are counted)."""
    url = _world_url(app, world, endpoint)
    before = snapshot(db)
    got = tuple(_answer(clients[role].get(url)) for role in ROLES)
    assert got == EXPECTED[_class_of(GET_CLASSES, endpoint)], f"{endpoint} {url}: {dict(zip(ROLES, got, strict=True))}"
    assert snapshot(db) == before, f"GET {endpoint} changed the database"


@pytest.mark.parametrize("endpoint", POSTS)
def test_post_matrix(app, db, world, clients, endpoint):
    """Each role's POST on a fresh copy of the world; a refused one changes nothing."""
    url = _world_url(app, world, endpoint)
    got = []
    for role in ROLES:
        _restore(world, db)
        before = snapshot(db)
        response = clients[role].post(url, data=_forms(world).get(endpoint, {}), content_type="multipart/form-data")
        assert response.status_code < 500, text(response)[:300]
        got.append(_answer(response))
        if got[-1] != OK:
            assert snapshot(db) == before, f"{endpoint}: refused {role} ({got[-1]}) but the database changed"
        elif endpoint != "workspaces.invite":  # where members already in are told so
            assert refusal(clients[role], response) is None, f"{endpoint}: the form is not plausible for {role}"
    assert tuple(got) == EXPECTED[_class_of(POST_CLASSES, endpoint)], f"{endpoint} {url}: {dict(zip(ROLES, got, strict=True))}"
