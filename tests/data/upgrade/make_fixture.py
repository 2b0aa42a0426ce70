"""Make the upgrade fixture: an instance full of data written by sovready 5ba5f0a.

Commit 5ba5f0a ("Merge portfolio mode (issue 7)") is the first with the web app, workshops and
portfolios together. This script drives THAT version's code (its web app through its test client,
and its repository functions), never raw SQL, so the database is what an operator running it
would have. Run it with that version installed, from a worktree outside this one:

    git worktree add --detach /tmp/old-5ba5f0a 5ba5f0a
    cd /tmp/old-5ba5f0a && python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'
    .venv/bin/python /path/to/this/tests/data/upgrade/make_fixture.py /path/to/this/tests/data/upgrade

It writes ``sovready-5ba5f0a.db.fixture`` (a SQLite database, WAL checkpointed, VACUUMed; not named
*.db, which .gitignore keeps out), ``expected-5ba5f0a.json``: what
that version showed of each object (answers, notes, scores, stages, the workshop's consensus, the
portfolio's exports), which tests/web/test_upgrade.py checks today's app still shows, with links
it gave out and cookies it set; and ``secret_key-5ba5f0a``, which signed those cookies.
"""

import dataclasses
import io
import json
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

import assessment
from assessment import accounts, jobs, portfolios, records, storage, workshops
from assessment.answers import Answer, load_answers
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubrics import peers_for, stored_rubric
from assessment.scoring import score
from assessment.web import create_app

COMMIT = "5ba5f0a"
PASSWORD = "correct horse battery staple"  # noqa: S105 (the fixture's accounts')
PEOPLE = {"owner": "owner@example.org", "editor": "editor@example.org", "viewer": "viewer@example.org",
          "outsider": "outsider@example.org", "agency": "agency@example.org"}
NOTE = "Données hébergées à Zürich — contrat signé ✓; 日本語のメモ; «citation»"


class CSRFClient(FlaskClient):
    """A test client whose form posts carry a valid CSRF token, as a browser's would."""

    def post(self, *args, **kwargs):
        data = kwargs.get("data") or {}
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        token = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)
        kwargs["data"] = {**data, "csrf_token": token}
        response = super().post(*args, **kwargs)
        if response.status_code != 302:  # every form this script sends redirects once saved
            raise RuntimeError(f"POST {args[0]}: {response.status_code}\n{response.get_data(as_text=True)[:3000]}")
        return response


def check_version() -> None:
    """Refuse to run with any other version's code: the fixture would not be what it says."""
    source = Path(assessment.__file__).resolve().parent
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source,  # noqa: S607 (git from PATH)
                          capture_output=True, text=True, check=True).stdout
    if not head.startswith(COMMIT):
        sys.exit(f"run with sovready {COMMIT} installed, not {head[:7]} ({source})")


def login(app, email: str) -> CSRFClient:
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})
    return client


def people(app, db) -> dict:
    """The administrator through the first-run page; an editor and a viewer through invitations."""
    setup = app.test_client()
    setup.post("/setup", data={"email": PEOPLE["owner"], "name": "Olga Ówner", "password": PASSWORD,
                               "confirm": PASSWORD, "workspace": "Agence publique de Łódź"})
    owner = accounts.get_user_by_email(db, PEOPLE["owner"])["id"]
    workspace = accounts.workspaces_for(db, owner)[0]["id"]
    ids = {"owner": owner, "workspace": workspace}
    for role in ("editor", "viewer"):
        token = accounts.create_invite(db, workspace, role, owner, 72)
        ids[role], _ = accounts.register_with_invite(db, token, PEOPLE[role], role.capitalize(), PASSWORD)
    ids["outsider"] = accounts.create_user(db, PEOPLE["outsider"], "Oscar Outsider", PASSWORD)
    ids["other_workspace"] = accounts.create_workspace(db, "Other Org", ids["outsider"])
    # A pending invitation that lasts ten years (INVITE_HOURS as an operator may set it), so that the
    # upgrade test can still use it.
    ids["invite"] = accounts.create_invite(db, workspace, "editor", owner, 10 * 365 * 24)
    return ids


def custom_rubric(owner: CSRFClient) -> str:
    """A local version 1.1.0 of the shipped rubric, uploaded on the admin page: two dimensions of three
    questions (small, so the fixture stays small), one renamed, the barriers of those dimensions."""
    data = yaml.safe_load(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
    data["version"] = "1.1.0"
    data["dimensions"] = [{**d, "questions": d["questions"][:3]} for d in data["dimensions"][:2]]
    data["dimensions"][0]["questions"][0]["title"] += " (local wording)"
    kept = {d["id"] for d in data["dimensions"]}
    data["barriers"] = [{**b, "dimensions": [d for d in b["dimensions"] if d in kept]}
                        for b in data["barriers"] if kept & set(b["dimensions"])]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    owner.post("/admin/rubrics", data={"file": (io.BytesIO(text.encode()), "local-rubric.yaml")},
               content_type="multipart/form-data")
    return data["version"]


def dimension_form(answers: dict[str, Answer]) -> dict:
    return {f"{qid}-{name}": value for qid, answer in answers.items()
            for name, value in (("value", str(answer.value)), ("basis", answer.basis), ("note", answer.note))}


def assessments(app, db, ids, owner: CSRFClient, editor: CSRFClient) -> dict:
    """Unstarted, half answered (through the pages), finished, a second round, one on the custom rubric."""
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    made = {"unstarted": records.create_assessment(db, ids["workspace"], rubric, "Not started yet",
                                                   created_by=ids["owner"])}
    response = editor.post(f"/w/{ids['workspace']}/assessments/new",
                           data={"title": "À moitié — half answered", "organization": "Agence de Łódź",
                                 "rubric": f"{rubric.id}@{rubric.version}"})
    half = made["half"] = response.headers["Location"].split("/")[-2]
    editor.post(f"/a/{half}/about", data={"title": "À moitié — half answered", "organization": "Agence de Łódź",
                                          "org_type": "public_agency", "region": "europe", "size": "s250_999",
                                          "sector": "public_administration", "role": "it_leader"})
    editor.post(f"/a/{half}/drivers", data={"data_control": "critical", "national_security": "important",
                                            "economic_competitiveness": "relevant",
                                            "regulatory_compliance": "critical", "cultural_alignment": "not_relevant"})
    for number, dimension in enumerate(rubric.dimensions[:4]):
        given = {q.id: Answer(min(index + number, 4), NOTE if index == 0 else "", "evidenced" if index == 0
                              else "self_assessed") for index, q in enumerate(dimension.questions)}
        last = dimension.questions[-1].id
        given[last] = Answer("dont_know" if number % 2 else "not_applicable", "ça dépend", "self_assessed")
        editor.post(f"/a/{half}/dimensions/{dimension.id}", data=dimension_form(given))
    editor.post(f"/a/{half}/barriers", data={"barriers": ["expertise_shortage", "data_quality"]})

    example = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    made["finished"] = records.create_assessment(db, ids["workspace"], rubric, "Revue de printemps 2025",
                                                 answers=example, created_by=ids["owner"])
    records.update_assessment(db, records.get_assessment(db, made["finished"]), rubric,
                              targets={"security.supply_chain": 4}, opt_in_benchmark=True)
    response = owner.post(f"/a/{made['finished']}/rounds")
    second = made["second_round"] = response.headers["Location"].split("/")[-2]
    records.save_answers(db, records.get_assessment(db, second), rubric,
                         {"strategy.funding": Answer(4, "Budget voté — 2026", "evidenced")})

    response = owner.post(f"/w/{ids['workspace']}/assessments/new",
                          data={"title": "On the local rubric", "organization": "",
                                "rubric": f"{rubric.id}@{custom_rubric(owner)}"})
    custom = made["custom_rubric"] = response.headers["Location"].split("/")[-2]
    local = stored_rubric(db, rubric.id, "1.1.0")
    records.save_answers(db, records.get_assessment(db, custom), local,
                         {q.id: Answer(2, "local", "self_assessed") for q in local.dimensions[0].questions})
    made["outsider"] = records.create_assessment(db, ids["other_workspace"], rubric, "Outsider's own",
                                                 answers=example, created_by=ids["outsider"])
    return made


def workshop(app, db, editor: CSRFClient, assessment_id: str) -> tuple[str, str]:
    """A workshop on two dimensions: three participants (the first through the join page, whose
    cookie is returned), one forgotten, revealed, a consensus, closed."""
    response = editor.post(f"/a/{assessment_id}/workshops", data={"dimensions": ["data", "security"]})
    workshop_id = response.headers["Location"].rstrip("/").split("/")[-1]
    found = workshops.get_workshop(db, workshop_id)
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    questions = workshops.questions_of(rubric, found.dimensions)
    phone = app.test_client()
    phone.post(f"/join/{found.join_code}", data={"display_name": "Zoë"})
    for number, name in enumerate(("Zoë", "Jürgen Ünal", "Someone to forget")):
        if number == 0:
            participant = workshops.participants(db, workshop_id)[0]["id"]
        else:
            participant, _ = workshops.join(db, workshop_id, name)
        workshops.save_participant_answers(db, workshop_id, participant, {
            q.id: str((index + number) % 5) if index != 2 else "dont_know" for index, q in enumerate(questions)})
    workshops.forget_participant(db, workshop_id, participant)
    editor.post(f"/workshops/{workshop_id}/reveal")
    for index, question in enumerate(questions[:3]):
        editor.post(f"/workshops/{workshop_id}/consensus/{question.id}",
                    data={"level": str(index + 1), "rationale": f"Accord n°{index} — «unanimité» ✓" if index else ""})
    editor.post(f"/workshops/{workshop_id}/close")
    return workshop_id, phone.get_cookie("session").value


def portfolio(app, db, ids) -> tuple[int, str]:
    """Three agencies: one finished, one half way, one still invited; a first round closed, a second open."""
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    portfolio_id = portfolios.create_portfolio(db, ids["workspace"], "Office national de l'IA", rubric, "2025",
                                               ids["owner"])
    rows = portfolios.parse_agencies_csv("name,type,size,contact\nAgence Ω,ministry,large,a@example.org\n"
                                         "Bureau Ä,agency,small,\nStill invited,agency,small,c@example.org\n")
    invited = portfolios.invite_agencies(db, portfolio_id, rows)
    _, _, first = portfolios.register_and_join(db, invited[0].token, PEOPLE["agency"], "Agnès", PASSWORD, rubric)
    example = load_answers(EXAMPLES / "early-public-agency.yaml", rubric)
    records.save_answers(db, records.get_assessment(db, first), rubric, dict(example.answers))
    _, second = portfolios.join(db, invited[1].token, ids["editor"], rubric)
    records.save_answers(db, records.get_assessment(db, second), rubric,
                         {q.id: Answer(3) for q in rubric.dimensions[0].questions})
    portfolios.open_round(db, portfolio_id, rubric, "2026", ids["owner"])
    newer = portfolios.agency_assessment(db, portfolio_id, invited[0].id, portfolios.rounds(db, portfolio_id)[0]["id"])
    records.save_answers(db, records.get_assessment(db, newer), rubric, {"strategy.mandate": Answer(4)})
    return portfolio_id, invited[2].token


def render_pdf(app, owner: CSRFClient, assessment_id: str) -> bytes:
    """The report asked for on its page and rendered by the worker's task, as the worker would."""
    owner.post(f"/a/{assessment_id}/report")
    jobs.run_pending(app.instance_path)
    response = owner.get(f"/a/{assessment_id}/report.pdf")
    if response.mimetype != "application/pdf":
        raise RuntimeError("the report did not render")
    return response.data


def shown(app, db, owner: CSRFClient, made: dict, workshop_id: str, portfolio_id: int, pdf: bytes,
          links: dict) -> dict:
    """What this version showed of every object, for the upgrade test to compare with."""
    found = {}
    for key, assessment_id in made.items():
        assessment = records.get_assessment(db, assessment_id)
        rubric = stored_rubric(db, assessment.rubric_id, assessment.rubric_version)
        result = score(rubric, records.answer_set(db, assessment), peers_for(rubric))
        found[key] = {"id": assessment_id, "title": assessment.title, "workspace_id": assessment.workspace_id,
                      "rubric_version": assessment.rubric_version, "parent_id": assessment.parent_id,
                      "overall": result.overall, "stage": result.stage,
                      "dimensions": {d.id: d.score for d in result.dimensions},
                      "gaps": len(result.gaps)}
        if key != "outsider":
            found[key]["export"] = owner.get(f"/a/{assessment_id}/export.json").get_json()
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    found_workshop = workshops.get_workshop(db, workshop_id)
    summaries = {}
    for chosen in portfolios.rounds(db, portfolio_id):
        summary = portfolios.summary(db, portfolio_id, rubric, chosen["id"])
        summaries[chosen["name"]] = {
            "id": chosen["id"], "closed": chosen["closed_at"] is not None, "finished": summary.finished,
            "overall": dataclasses.asdict(summary.overall) if summary.overall else None,
            "common_gaps": [gap.question for gap in summary.common_gaps],
            "median_delta": summary.median_delta,
            "export": owner.get(f"/portfolios/{portfolio_id}/export.json?round={chosen['id']}").get_json()}
    return {
        "commit": COMMIT, "password": PASSWORD, "links": links, "people": PEOPLE, "default_rubric": list(app.config["DEFAULT_RUBRIC"]),
        "workspace": made and records.get_assessment(db, made["finished"]).workspace_id,
        "assessments": found,
        "workshop": {"id": workshop_id, "assessment": found_workshop.assessment_id, "status": found_workshop.status,
                     "dimensions": list(found_workshop.dimensions),
                     "participants": [p["display_name"] for p in workshops.participants(db, workshop_id)],
                     "answers": workshops.all_answers(db, workshop_id),
                     "consensus": {q: {"level": row["level"], "rationale": row["rationale"]}
                                   for q, row in workshops.consensus(db, workshop_id).items()}},
        "portfolio": {"id": portfolio_id, "rounds": summaries,
                      "agencies": [a["name"] for a in portfolios.round_rows(db, portfolio_id,
                                                                            portfolios.rounds(db, portfolio_id)[0]["id"])]},
        "pdf": {"assessment": "finished", "bytes": len(pdf),
                "jobs": db.execute("SELECT count(*) FROM report_jobs WHERE status = 'done'").fetchone()[0]},
        "rubrics": [[row["id"], row["version"]] for row in db.query("SELECT id, version FROM rubrics ORDER BY version")],
    }


def main(out: Path) -> None:
    check_version()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True}, instance_path=Path(folder) / "instance")
        app.test_client_class = CSRFClient
        db = storage.connect(app.config["DATABASE"])
        ids = people(app, db)
        owner, editor = login(app, PEOPLE["owner"]), login(app, PEOPLE["editor"])
        made = assessments(app, db, ids, owner, editor)
        workshop_id, participant_cookie = workshop(app, db, editor, made["second_round"])
        portfolio_id, agency_token = portfolio(app, db, ids)
        pdf = render_pdf(app, owner, made["finished"])
        # Links given out and cookies held before the upgrade, for the test to use after it.
        links = {"invite": ids["invite"], "agency": agency_token, "participant_cookie": participant_cookie,
                 "owner_cookie": owner.get_cookie("session").value}
        expected = shown(app, db, owner, made, workshop_id, portfolio_id, pdf, links)
        db.close()
        plain = sqlite3.connect(app.config["DATABASE"])
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        plain.execute("VACUUM INTO ?", [str(out / f"sovready-{COMMIT}.db.fixture")])
        plain.close()
        shutil.copy(Path(app.instance_path) / "secret_key", out / f"secret_key-{COMMIT}")  # signed the cookies
    (out / f"expected-{COMMIT}.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
    print(f"wrote {out / f'sovready-{COMMIT}.db.fixture'} and expected-{COMMIT}.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
