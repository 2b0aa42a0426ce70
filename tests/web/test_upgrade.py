"""An instance written by an old sovready, upgraded: today's app started on its database shows
every object as that version did, and keeps working on it.

The fixture (tests/data/upgrade/) was made by sovready 5ba5f0a's own code; its script says how, and
``expected-5ba5f0a.json`` holds what that version showed: answers, notes, scores, stages, the
workshop's consensus and the portfolio's exports.
"""

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from assessment import accounts, jobs, portfolios, records, storage, workshops
from assessment.cli import cli
from assessment.rubrics import peers_for, stored_rubric
from assessment.scoring import score
from assessment.textreport import figure
from assessment.web import create_app

from .conftest import CSRFClient, create_account, csv_text, stored_form, text

FIXTURE = Path(__file__).parents[1] / "data" / "upgrade"
OLD_DATABASE = FIXTURE / "sovready-5ba5f0a.db.fixture"  # not *.db: a fixture, not a database the tests make
EXPECTED = json.loads((FIXTURE / "expected-5ba5f0a.json").read_text(encoding="utf-8"))
ASSESSMENTS = EXPECTED["assessments"]
WORKSHOP = EXPECTED["workshop"]
PORTFOLIO = EXPECTED["portfolio"]
OURS = [key for key in ASSESSMENTS if key != "outsider"]  # the outsider's is in a workspace of its own


def _start(tmp_path):
    """Today's app on a copy of the old instance (database and secret key), migrated at start-up."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    shutil.copy(OLD_DATABASE, instance / "sovready.db")
    shutil.copy(FIXTURE / "secret_key-5ba5f0a", instance / "secret_key")
    app = create_app({"TESTING": True}, instance_path=instance)
    app.test_client_class = CSRFClient
    return app


def _login(app, role):
    return app.test_client().login(EXPECTED["people"][role], EXPECTED["password"])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _start(tmp_path_factory.mktemp("upgrade"))


def _ids(app) -> tuple[int, int]:
    """The workspace's and the portfolio's ids after the upgrade, which replaced counted ids (migration 026)."""
    db = storage.connect(app.config["DATABASE"])
    workspace = records.get_assessment(db, ASSESSMENTS["finished"]["id"]).workspace_id
    (portfolio,) = portfolios.portfolios_in(db, workspace)
    db.close()
    return workspace, portfolio["id"]


@pytest.fixture(scope="module")
def ids(app):
    return _ids(app)


@pytest.fixture(scope="module")
def clients(app):
    """Everyone, logged in with the password the old version stored: its hash still verifies."""
    return {role: _login(app, role) for role in ("owner", "editor", "viewer", "agency", "outsider")}


@pytest.fixture
def db(app):
    db = storage.connect(app.config["DATABASE"])
    yield db
    db.close()


def _ok(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    page = text(response)
    assert "Something went wrong" not in page and "Traceback" not in page, path
    return page


def _assessment_pages(key) -> list[str]:
    found = ASSESSMENTS[key]
    pages = [f"/a/{found['id']}/{step}" for step in ("about", "drivers", "barriers", "review", "results", "report",
                                                     "export.json", "answers.csv", "gaps.csv")]
    pages += [f"/a/{found['id']}/dimensions/{d}" for d in found["dimensions"]]
    return pages + ([f"/a/{found['id']}/compare"] if found["parent_id"] else [])


def test_start_up_applied_every_migration_of_today(app, db):
    assert storage.migrations.pending(db) == []
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
def test_every_page_of_the_old_objects_renders_for_each_role(clients, ids, role):
    client, (workspace, _) = clients[role], ids
    pages = [f"/w/{workspace}", "/account", "/rubric", "/rubric/sovereign-ai-readiness/1.1.0",
             f"/workshops/{WORKSHOP['id']}" if role != "viewer" else f"/a/{WORKSHOP['assessment']}/results"]
    for key in OURS:
        pages += _assessment_pages(key)
    for path in pages:
        _ok(client, path)


def test_the_owner_sees_the_administration_members_audit_workshop_and_portfolio_pages(clients, ids):
    owner, (workspace, portfolio) = clients["owner"], ids
    pages = ["/admin/rubrics", "/admin/users", "/admin/audit", f"/w/{workspace}/members", f"/w/{workspace}/audit",
             f"/w/{workspace}/portfolios", f"/w/{workspace}/assessments/new", f"/w/{workspace}/import",
             f"/a/{WORKSHOP['assessment']}/workshops", f"/portfolios/{portfolio}", f"/portfolios/{portfolio}/agencies",
             f"/portfolios/{portfolio}/report", f"/portfolios/{portfolio}/export.csv"]
    for found in PORTFOLIO["rounds"].values():
        pages += [f"/portfolios/{portfolio}?round={found['id']}", f"/portfolios/{portfolio}/export.json?round={found['id']}"]
    for path in pages:
        _ok(owner, path)


def test_the_agency_sees_its_workspace_and_assessments_and_the_outsider_only_its_own(app, clients, ids):
    db = storage.connect(app.config["DATABASE"])
    agency_workspace = accounts.workspaces_for(db, accounts.get_user_by_email(db, EXPECTED["people"]["agency"])["id"])
    db.close()
    (workspace,) = agency_workspace
    page = _ok(clients["agency"], f"/w/{workspace['id']}")
    _ok(clients["agency"], f"/w/{workspace['id']}/portfolio")
    assert "Agence Ω (2025)" in page and "Agence Ω (2026)" in page
    outsider = clients["outsider"]
    _ok(outsider, f"/a/{ASSESSMENTS['outsider']['id']}/results")
    for path in (f"/w/{ids[0]}", f"/a/{ASSESSMENTS['finished']['id']}/results", f"/portfolios/{ids[1]}",
                 f"/workshops/{WORKSHOP['id']}"):
        assert outsider.get(path).status_code == 404, path


def test_the_old_password_is_still_the_only_one_that_logs_in(app):
    assert app.test_client().post("/login", data={"email": EXPECTED["people"]["viewer"],
                                                  "password": "not the password at all"}).status_code == 200


@pytest.mark.parametrize("key", OURS)
def test_answers_notes_and_profile_export_as_the_old_version_showed_them(clients, key):
    old = ASSESSMENTS[key]["export"]
    new = clients["viewer"].get(f"/a/{ASSESSMENTS[key]['id']}/export.json").get_json()
    assert {name: new[name] for name in old} == old


@pytest.mark.parametrize("key", list(ASSESSMENTS))
def test_scores_and_stages_are_the_old_versions(db, key):
    found = ASSESSMENTS[key]
    assessment = records.get_assessment(db, found["id"])
    rubric = stored_rubric(db, assessment.rubric_id, assessment.rubric_version)
    result = score(rubric, records.answer_set(db, assessment), peers_for(rubric))
    assert (assessment.title, assessment.rubric_version, assessment.parent_id) == (
        found["title"], found["rubric_version"], found["parent_id"])
    assert (result.overall, result.stage, len(result.gaps)) == (found["overall"], found["stage"], found["gaps"])
    assert {d.id: d.score for d in result.dimensions} == found["dimensions"]
    stored = db.execute("SELECT score, stage FROM scores WHERE assessment_id = ? AND dimension = '_overall'",
                        [found["id"]]).fetchone()
    assert stored == (found["overall"], found["stage"])  # what lists and cohorts read


def test_the_workspace_and_results_pages_show_the_old_figures(clients, ids):
    page = _ok(clients["viewer"], f"/w/{ids[0]}")
    for key in OURS:
        found = ASSESSMENTS[key]
        assert found["title"] in page
        if found["overall"] is not None:
            assert figure(found["overall"]) in page
            assert figure(found["overall"]) in _ok(clients["viewer"], f"/a/{found['id']}/results")


def test_the_csv_exports_hold_the_old_answers_and_notes(clients):
    half = ASSESSMENTS["half"]
    rows = list(csv.DictReader(io.StringIO(csv_text(clients["viewer"].get(f"/a/{half['id']}/answers.csv")))))
    given = {row["question"]: row for row in rows if row["answer"]}
    assert len(given) == len(half["export"]["answers"])
    for question, answer in half["export"]["answers"].items():
        assert (given[question]["answer"], given[question]["basis"], given[question]["note"]) == (
            str(answer["level"]), answer["basis"], answer["note"])
    for key in OURS:
        gaps = csv_text(clients["viewer"].get(f"/a/{ASSESSMENTS[key]['id']}/gaps.csv"))
        assert len(list(csv.DictReader(io.StringIO(gaps)))) == ASSESSMENTS[key]["gaps"]


def test_the_workshops_participants_answers_and_consensus_are_intact(db, clients):
    found = workshops.get_workshop(db, WORKSHOP["id"])
    assert (found.assessment_id, found.status, list(found.dimensions)) == (
        WORKSHOP["assessment"], WORKSHOP["status"], WORKSHOP["dimensions"])
    assert [p["display_name"] for p in workshops.participants(db, WORKSHOP["id"])] == WORKSHOP["participants"]
    assert workshops.all_answers(db, WORKSHOP["id"]) == WORKSHOP["answers"]
    consensus = workshops.consensus(db, WORKSHOP["id"])
    assert {q: {"level": row["level"], "rationale": row["rationale"]} for q, row in consensus.items()} == \
        WORKSHOP["consensus"]
    page = _ok(clients["editor"], f"/workshops/{WORKSHOP['id']}")
    assert "Zoë" in page and "Jürgen Ünal" in page and "Accord n°1 — «unanimité» ✓" in page


def test_the_portfolios_rounds_and_figures_are_intact(clients, ids):
    owner, portfolio = clients["owner"], ids[1]
    for name, found in PORTFOLIO["rounds"].items():
        new = owner.get(f"/portfolios/{portfolio}/export.json?round={found['id']}").get_json()
        old = found["export"]
        # A past round now lists only the agencies that had an assessment in it (portfolios.round_rows).
        agencies = [agency for agency in old["agencies"] if not found["closed"] or agency["total"]]
        assert (new["portfolio"], new["rubric_version"], new["round"]) == (old["portfolio"], old["rubric_version"], name)
        assert [{key: agency[key] for key in old["agencies"][0]} for agency in new["agencies"]] == agencies
        page = _ok(owner, f"/portfolios/{portfolio}?round={found['id']}")
        for agency in agencies:
            assert agency["name"] in page
            if agency["finished"]:
                assert figure(agency["overall"]) in page


def test_a_pdf_of_an_old_assessment_renders_and_reads_back(app, clients):
    finished, owner = ASSESSMENTS["finished"], clients["owner"]
    assert owner.post(f"/a/{finished['id']}/report").status_code == 302
    assert jobs.run_pending(app.instance_path) == 1
    response = owner.get(f"/a/{finished['id']}/report.pdf")
    assert response.mimetype == "application/pdf"
    content = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    organization = finished["export"]["organization"].replace(" (", "\n(")  # the cover breaks it there
    assert organization in content and f"{figure(finished['overall'])} / 100" in content


def test_a_pdf_of_the_old_portfolio_renders_and_reads_back(app, clients, ids):
    owner, portfolio = clients["owner"], ids[1]
    assert owner.post(f"/portfolios/{portfolio}/report").status_code == 302
    assert jobs.run_pending(app.instance_path) == 1
    response = owner.get(f"/portfolios/{portfolio}/report.pdf")
    assert response.mimetype == "application/pdf"
    content = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    (finished,) = [a for a in PORTFOLIO["rounds"]["2026"]["export"]["agencies"] if a["finished"]]
    assert "Office national de l'IA" in content and finished["name"] in content and figure(finished["overall"]) in content


def test_check_backup_accepts_the_old_database_as_it_is(tmp_path):
    copy = tmp_path / "old.db"
    shutil.copy(OLD_DATABASE, copy)
    result = CliRunner().invoke(cli, ["check-backup", str(copy)])
    assert result.exit_code == 0, result.output
    assert f"{len(ASSESSMENTS) + 4} assessments" in result.output  # and the portfolio's four


def test_cookies_set_before_the_upgrade_lead_on_without_an_error(app, ids):
    """The secret key is the instance's own, so the old cookies are still read: a person whose session
    has ended (SESSION_HOURS after it began) goes to the log-in, a participant to the closed workshop."""
    person = app.test_client()
    person.set_cookie("session", EXPECTED["links"]["owner_cookie"])
    response = person.get(f"/w/{ids[0]}")
    assert response.status_code == 200 or response.location.startswith("/login?next=")
    phone = app.test_client()
    phone.set_cookie("session", EXPECTED["links"]["participant_cookie"])
    assert phone.get(f"/p/{WORKSHOP['id']}").status_code in (200, 404, 410)


def test_links_given_out_before_the_upgrade(tmp_path):
    """A pending workspace invitation makes an account; the agency still invited joins with its link
    (migration 021 gave it 30 days from the upgrade)."""
    app = _start(tmp_path)
    workspace, portfolio = _ids(app)
    client = app.test_client()
    link = f"/invite/{EXPECTED['links']['invite']}"
    _ok(client, link)
    assert create_account(client, link, "invited@example.org").status_code == 302
    assert "Agence publique de Łódź" in _ok(client, f"/w/{workspace}")
    client = app.test_client()
    link = f"/portfolio-invite/{EXPECTED['links']['agency']}"
    _ok(client, link)
    assert create_account(client, link, "still@example.org").status_code == 302
    agencies = _login(app, "owner").get(f"/portfolios/{portfolio}/export.json").get_json()["agencies"]
    assert [(a["name"], a["answered"], a["total"]) for a in agencies if a["name"] == "Still invited"] == [
        ("Still invited", 0, 48)]


def test_old_assessments_take_new_answers_rounds_and_imports_and_backup_and_restore_keep_them(tmp_path):
    """On an instance of its own: the other tests expect the old answers."""
    app = _start(tmp_path)
    editor, half, finished = _login(app, "editor"), ASSESSMENTS["half"], ASSESSMENTS["finished"]
    db = storage.connect(app.config["DATABASE"])
    form = stored_form(db, half["id"], "data") | {"data.access-value": "1", "data.access-note": "révisé en 2026"}
    assert editor.post(f"/a/{half['id']}/dimensions/data", data=form).status_code == 302
    saved = editor.get(f"/a/{half['id']}/export.json").get_json()["answers"]
    assert saved["data.access"] == {"level": 1, "basis": "self_assessed", "note": "révisé en 2026"}
    assert saved["data.residency"] == half["export"]["answers"]["data.residency"]

    # A new round of the old assessment on today's version of the rubric, compared with the old round.
    response = editor.post(f"/a/{finished['id']}/rounds", data={"rubric_version": "1.0.1"})
    assert response.status_code == 302
    round_id = response.location.split("/")[-2]
    assert records.get_assessment(db, round_id).rubric_version == "1.0.1"
    for page in ("results", "compare", "review"):
        _ok(editor, f"/a/{round_id}/{page}")
    assert editor.get(f"/a/{round_id}/export.json").get_json()["answers"] == finished["export"]["answers"]

    # The old version's JSON export, imported.
    upload = io.BytesIO(json.dumps(half["export"]).encode())
    response = editor.post(f"/w/{_ids(app)[0]}/import", data={"file": (upload, "old-export.json"), "title": "Imported"},
                           content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    imported = editor.get(response.location.replace("/review", "/export.json")).get_json()
    assert {name: imported[name] for name in half["export"]} == half["export"]
    db.close()

    instance = app.instance_path
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "after.db"), "--instance", instance])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["check-backup", str(tmp_path / "after.db")]).exit_code == 0
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "after.db"), "--instance", str(restored)])
    assert result.exit_code == 0, result.output
    back = sqlite3.connect(restored / "sovready.db")
    assert back.execute("SELECT note FROM answers WHERE assessment_id = ? AND question_id = 'data.access'",
                        [half["id"]]).fetchone() == ("révisé en 2026",)
    assert back.execute("SELECT level, rationale FROM consensus WHERE question_id = 'data.inventory'").fetchone() == (
        2, "Accord n°1 — «unanimité» ✓")
    back.close()


def test_restore_of_the_old_database_migrates_it_into_place(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    shutil.copy(OLD_DATABASE, tmp_path / "old.db")
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "old.db"), "--instance", str(instance)])
    assert result.exit_code == 0, result.output
    app = create_app({"TESTING": True}, instance_path=instance)
    app.test_client_class = CSRFClient
    finished = ASSESSMENTS["finished"]
    new = _login(app, "viewer").get(f"/a/{finished['id']}/export.json").get_json()
    assert {name: new[name] for name in finished["export"]} == finished["export"]


def test_old_workspaces_and_portfolios_get_random_ids_as_new_ones_do(db, clients, ids):
    """Their ids are in URLs: counted ones (1, 2, 3...) were guessable and told how many organizations
    use the instance (docs/security.md), which an upgrade left as they were."""
    found = [row[0] for row in db.execute("SELECT id FROM workspaces UNION ALL SELECT id FROM portfolios")]
    assert len(found) == 5 and all(2**20 < i < 2**53 for i in found)  # below 2**20 by chance: 1 in 8 billion
    old = EXPECTED["workspace"]
    assert {records.get_assessment(db, a["id"]).workspace_id for a in ASSESSMENTS.values() if a["workspace_id"] == old} \
        == {ids[0]}  # each moved with its workspace, whose portfolio and members moved too
    assert [m["email"] for m in accounts.members(db, ids[0])] == [EXPECTED["people"][r] for r in ("editor", "owner", "viewer")]
    for path in (f"/w/{old}", f"/portfolios/{PORTFOLIO['id']}"):
        assert clients["owner"].get(path).status_code == 404
