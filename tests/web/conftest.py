"""Scenarios for the web tests: an app on a real SQLite file, people in workspaces, assessments."""

import re
import secrets
import sqlite3

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from assessment import accounts, portfolios, records, storage, workshops
from assessment.answers import load_answers
from assessment.paths import EXAMPLES
from assessment.rubrics import stored_rubric
from assessment.web import create_app

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test account's)
OWNER = "owner@example.org"
EDITOR = "editor@example.org"
VIEWER = "viewer@example.org"
OUTSIDER = "outsider@example.org"


class CSRFClient(FlaskClient):
    """A test client whose form posts carry a valid CSRF token, as a browser's would; csrf=False omits it."""

    def post(self, *args, csrf=True, **kwargs):
        data = kwargs.get("data") or {}
        if csrf and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)

    def csrf_token(self) -> str:
        # What Flask-WTF's generate_csrf does: a random value in the session, signed for the form.
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    app.test_client_class = CSRFClient
    return app


@pytest.fixture
def db(app):
    with app.app_context():
        from assessment.web import get_db
        yield get_db()


@pytest.fixture
def client(app):
    return app.test_client()


def _create_people(db) -> dict:
    owner, workspace = accounts.create_first_admin(db, OWNER, "Olga Owner", PASSWORD, "Acme Public Agency")
    ids = {"owner": owner, "workspace": workspace}
    for role, email in (("editor", EDITOR), ("viewer", VIEWER)):
        token = accounts.create_invite(db, workspace, role, owner, 1)
        ids[role], _ = accounts.register_with_invite(db, token, email, role.capitalize(), PASSWORD)
    ids["outsider"] = accounts.create_user(db, OUTSIDER, "Oscar Outsider", PASSWORD)
    ids["other_workspace"] = accounts.create_workspace(db, "Other Org", ids["outsider"])
    return ids


@pytest.fixture(scope="session")
def seed(tmp_path_factory):
    """The people of the web tests, created once: hashing their passwords is the slow part."""
    app = create_app({"TESTING": True}, instance_path=tmp_path_factory.mktemp("seed"))
    db = storage.connect(app.config["DATABASE"])
    ids = _create_people(db)
    db.close()
    return app.config["DATABASE"], ids


@pytest.fixture
def people(db, seed):
    """An administrator owning workspace 1 with an editor and a viewer; an outsider owning workspace 2."""
    path, ids = seed
    source = sqlite3.connect(path)
    source.backup(db.conn)  # into the test's own database file, which every connection then sees
    source.close()
    return ids


@pytest.fixture
def owner(app, people):
    return app.test_client().login(OWNER)


@pytest.fixture
def editor(app, people):
    return app.test_client().login(EDITOR)


@pytest.fixture
def viewer(app, people):
    return app.test_client().login(VIEWER)


@pytest.fixture
def outsider(app, people):
    return app.test_client().login(OUTSIDER)


@pytest.fixture
def default_rubric(app, db):
    return stored_rubric(db, *app.config["DEFAULT_RUBRIC"])


@pytest.fixture
def finished(db, people, default_rubric):
    """A complete assessment in workspace 1: the mid-maturity example's answers."""
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", default_rubric)
    return records.create_assessment(db, people["workspace"], default_rubric, "Spring review", answers=answers,
                                     created_by=people["owner"])


@pytest.fixture
def empty(db, people, default_rubric):
    """A new assessment in workspace 1 with no answers yet."""
    return records.create_assessment(db, people["workspace"], default_rubric, "Autumn review",
                                     created_by=people["owner"])


def stored_form(db, assessment_id, dimension) -> dict:
    """A dimension page's form as stored (answers and targets), as a browser posts it back."""
    assessment = records.get_assessment(db, assessment_id)
    answers = records.answer_set(db, assessment).answers
    form = {f"{qid}-{name}": value for qid, answer in answers.items() if qid.startswith(f"{dimension}.")
            for name, value in (("value", str(answer.value)), ("basis", answer.basis), ("note", answer.note))}
    return form | {f"{qid}-target": str(level) for qid, level in assessment.targets.items()
                   if qid.startswith(f"{dimension}.")}


DIMENSIONS = ["data", "security"]  # of the workshop below


@pytest.fixture
def workshop(db, people, finished):
    """A workshop on two dimensions of the finished assessment, opened by the editor."""
    return workshops.create_workshop(db, finished, DIMENSIONS, people["editor"])


@pytest.fixture
def portfolio(db, people, default_rubric):
    """A portfolio of workspace 1 on the default rubric, with its first round open and no agency yet."""
    return portfolios.create_portfolio(db, people["workspace"], "National AI office", default_rubric, "2026",
                                       people["owner"])


def pytest_terminal_summary(terminalreporter):
    """The fuzzing figures of this run (tests/web/fuzzing.py), when any fuzz test ran."""
    from .fuzzing import COUNT
    if COUNT["requests"]:
        terminalreporter.write_line(f"requests fuzzed: {COUNT['requests']}, 500s: {COUNT['500s']}")


def text(response) -> str:
    return response.get_data(as_text=True)


def csv_text(response) -> str:
    """A CSV download's text after its byte order mark, which spreadsheets need to read it as UTF-8."""
    body = text(response)
    assert body.startswith("\ufeff"), "without a byte order mark, spreadsheets garble non-ASCII text"
    return body[1:]


def flashes(response) -> list[str]:
    return re.findall(r'<p class="flash[^"]*">(.*?)</p>', text(response))


# Invitation links (a workspace's, a portfolio agency's) that close to new accounts.
NO_NEW_ACCOUNT = ("This invitation cannot create an account for this address. If you already have an account, "
                  "log in to join with it; otherwise ask the owner who sent the link for a new one.")


def create_account(client, link, email):
    return client.post(link, data={"name": "X", "email": email, "password": PASSWORD, "confirm": PASSWORD})


def without_secrets(page: str) -> str:
    """A page without what differs between two responses to the same person: the CSRF token, the typed address."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"|value="[^"]*@example.org"', "", page)
