"""Every page an ordinary user reaches, timed on one big instance, with its number of SQL statements.

Seeds one SQLite file through the storage and record functions (no raw SQL): 300 accounts, 60
workspaces of 5 assessments in 4 rounds each, a few uploaded rubric versions, a portfolio of
1,000 agencies (each joined by an account and answered, some not yet) in two rounds, and a
workshop of 200 participants with answers. Then, in the same process through the Flask test
client, it enumerates the app's url_map and GETs every route as the role that reaches it
(administrator and portfolio owner, a workspace's owner who also answers for agencies, a workshop
participant, or nobody logged in): once untimed, so that code and templates are warm; then a
*first view* after the app's content caches are emptied (what the first visitor after a change
gets); then 5 *repeated views* (their median). Prints a table sorted by the first view, with the
SQL statements each request ran on the app's connection (a sqlite3 trace callback). It prints;
it asserts no time.

    .venv/bin/python -m bench.scale [--database FILE]

With --database, the seeded database is kept in FILE (and its ids in FILE.json) the first time and
copied from it afterwards, so that two versions of the code can be timed on the same data: seed
with the older code (a newer one migrates a copy forward; the older refuses a newer database).
"""

import json
import logging
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from werkzeug.security import generate_password_hash

from assessment import accounts, portfolios, records, storage, workshops
from assessment.answers import Answer
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubrics import add_rubric, stored_rubric
from assessment.web import create_app, get_db
from bench import arguments
from bench.portfolio import SIZES, TYPES
from bench.scoring import make_answer_sets
from bench.web import PASSWORD
from bench.workshop import answers_of

ACCOUNTS, WORKSPACES, TITLES, ROUNDS = 300, 60, 5, 4
AGENCIES, NOT_JOINED, UNFINISHED = 1000, 40, 60
PARTICIPANTS = 200
REPEATS = 5
# Room in the workshop for the bench's own participant, and for the join page to offer.
CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "WORKSHOP_MAX_PARTICIPANTS": PARTICIPANTS + 10}


@contextmanager
def quick_hashes():
    """Accounts hashed with one round of PBKDF2 while seeding: 300 scrypt hashes take a minute, and the
    hash's cost is no part of any page."""
    cheap = lambda password, method: generate_password_hash(password, method="pbkdf2:sha256:1")  # noqa: E731
    with mock.patch.object(accounts, "generate_password_hash", cheap):
        yield


def seed_versions(db, admin: int, default: tuple[str, str]) -> list:
    """The shipped rubric version and three uploaded ones, newest last."""
    text = DEFAULT_RUBRIC.read_text(encoding="utf-8")
    stored = [stored_rubric(db, *default)]
    for minor in (1, 2, 3):
        stored.append(add_rubric(db, text.replace("\nversion: 1.0.1\n", f"\nversion: 1.{minor}.0\n"),
                                 f"readiness-1.{minor}.yaml", by=admin)[0])
    return stored


def seed_workspace(db, number: int, users: list[int], versions: list, answer_sets) -> dict:
    """A workspace owned by one account, with four members and TITLES assessments of ROUNDS rounds each,
    the later rounds on newer rubric versions; its ids."""
    owner = users[number * 5 % len(users)]
    workspace = accounts.create_workspace(db, f"Workspace {number}", owner)
    for offset, role in enumerate(("owner", "editor", "editor", "viewer"), 1):
        token = accounts.create_invite(db, workspace, role, owner, 24)
        accounts.accept_invite(db, token, users[(number * 5 + offset) % len(users)])
    latest = None
    for title in range(TITLES):
        parent = None
        for round_number in range(ROUNDS):
            rubric = versions[min(round_number, len(versions) - 1)]
            if parent is None:
                latest = records.create_assessment(db, workspace, rubric, f"Review {title}", next(answer_sets),
                                                   created_by=owner)
            else:
                latest = records.start_round(db, parent, rubric, f"Review {title} round {round_number + 1}", owner)
                changed = {q: Answer((i + round_number) % 5) for i, q in enumerate(list(rubric.questions)[:6])}
                records.save_answers(db, records.get_assessment(db, latest), rubric, changed, by=owner)
            parent = records.get_assessment(db, latest)
    return {"workspace": workspace, "owner": owner, "assessment": latest,
            "invite": accounts.create_invite(db, workspace, "viewer", owner, 24)}


def seed_portfolio(db, office: int, admin: int, users: list[int], rubric, answer_sets) -> dict:
    """AGENCIES agencies: most joined (each by an account, round-robin) and finished, some half-way,
    some not joined; then a second round, in which a third of them change answers."""
    portfolio = portfolios.create_portfolio(db, office, "National AI office", rubric, "2025", admin)
    rows = [(n + 2, {"name": f"Agency {n:04d}", "type": TYPES[n % len(TYPES)], "size": SIZES[n % len(SIZES)],
                     "contact": ""}) for n in range(AGENCIES)]
    invited = portfolios.invite_agencies(db, portfolio, rows, by=admin)
    questions = list(rubric.questions)
    for n, agency in enumerate(invited[NOT_JOINED:]):
        _, assessment_id = portfolios.join(db, agency.token, users[n % len(users)], rubric)
        answers = dict(next(answer_sets).answers) | {q: Answer(n % 5) for q in questions}
        if n < UNFINISHED:
            answers = {q: answers[q] for q in questions[:len(questions) // 2]}
        records.save_answers(db, records.get_assessment(db, assessment_id), rubric, answers)
    portfolios.open_round(db, portfolio, rubric, "2026", admin)
    waiting = portfolios.renew_link(db, portfolio, invited[0].id, by=admin)  # the first round's link is closed
    current = portfolios.rounds(db, portfolio)[0]["id"]
    for row in portfolios.round_rows(db, portfolio, current)[NOT_JOINED::3]:
        if row["assessment_id"]:
            records.save_answers(db, records.get_assessment(db, row["assessment_id"]), rubric,
                                 {q: Answer((row["id"] + i) % 5) for i, q in enumerate(questions[:12])})
    member = next(r for r in portfolios.round_rows(db, portfolio, current) if r["workspace_id"])
    return {"portfolio": portfolio, "agency": member["id"], "agency_workspace": member["workspace_id"],
            "agency_invite": waiting.token}


def seed_workshop(db, office: int, admin: int, rubric, answer_sets) -> dict:
    """A workshop on every dimension of an assessment, with PARTICIPANTS who answered every question and
    a consensus on a few."""
    assessment_id = records.create_assessment(db, office, rubric, "Workshop review", next(answer_sets),
                                              created_by=admin)
    workshop_id = workshops.create_workshop(db, assessment_id, [d.id for d in rubric.dimensions], admin)
    questions = list(rubric.questions)
    for n in range(PARTICIPANTS):
        participant, _ = workshops.join(db, workshop_id, f"Participant {n}", cap=PARTICIPANTS)
        workshops.save_participant_answers(db, workshop_id, participant, answers_of(n, questions))
    workshop = workshops.get_workshop(db, workshop_id)
    for question in questions[:5]:
        workshops.set_consensus(db, workshop, rubric, question, 2, "Agreed in the room", admin)
    return {"workshop": workshop_id, "code": workshop.join_code, "question": questions[0],
            "participant": participant, "workshop_assessment": assessment_id}


def seed(database: str, default: tuple[str, str]) -> dict:
    """The big instance; the ids the routes need."""
    db = storage.connect(database)
    with quick_hashes():
        admin, office = accounts.create_first_admin(db, "bench@example.org", "Bench", PASSWORD, "National office")
        users = [accounts.create_user(db, f"user{n}@example.org", f"User {n}", PASSWORD) for n in range(ACCOUNTS)]
    versions = seed_versions(db, admin, default)
    answer_sets = iter(make_answer_sets(versions[0], WORKSPACES * TITLES + AGENCIES + 1))
    spaces = [seed_workspace(db, n, users, versions, answer_sets) for n in range(WORKSPACES)]
    ids = {"admin": admin, "office": office, "users": ACCOUNTS, **spaces[0],
           "member": users[1], "rubric": [versions[-1].id, versions[-1].version]}
    ids |= seed_portfolio(db, office, admin, users, versions[0], answer_sets)
    ids |= seed_workshop(db, office, admin, versions[0], answer_sets)
    db.close()
    return ids


# Who opens each GET route, and with which of the seeded ids. A route missing here is printed as
# not timed, so that a new page is noticed.
OWNER, ADMIN, PARTICIPANT, NOBODY = "workspace owner", "administrator", "participant", "nobody"
ASSESSMENT = (OWNER, {"assessment_id": "assessment"})
WORKSPACE = (OWNER, {"workspace_id": "workspace"})
PORTFOLIO = (ADMIN, {"portfolio_id": "portfolio"})
WORKSHOP = (ADMIN, {"workshop_id": "workshop"})
ROUTES = {
    "workspaces.index": (OWNER, {}), "workspaces.new": (OWNER, {}), "auth.account": (OWNER, {}),
    "home.rubric": (OWNER, {}), "home.rubric_version": (OWNER, {"rubric_id": "rubric", "version": "rubric"}),
    "workspaces.dashboard": WORKSPACE, "workspaces.members": WORKSPACE, "workspaces.delete": WORKSPACE,
    "workspaces.leave": WORKSPACE, "journey.new": WORKSPACE, "transfer.import_answers": WORKSPACE,
    "audit.log": WORKSPACE, "audit.export": WORKSPACE,
    "workspaces.revoke": (OWNER, {"workspace_id": "workspace", "invite_id": "invite_id"}),
    "workspaces.remove_member": (OWNER, {"workspace_id": "workspace", "user_id": "member"}),
    "portfolios.mine": (OWNER, {"workspace_id": "agency_workspace"}),
    "portfolios.index": (ADMIN, {"workspace_id": "office"}), "portfolios.new": (ADMIN, {"workspace_id": "office"}),
    **{f"journey.{name}": ASSESSMENT for name in ("about", "barriers", "compare_rounds", "resume", "delete",
                                                   "drivers", "results", "review")},
    "journey.dimension": (OWNER, {"assessment_id": "assessment", "dimension_id": "dimension"}),
    **{f"transfer.{name}": ASSESSMENT for name in ("export_answers", "export_json", "export_gaps")},
    "reports.status": ASSESSMENT, "reports.download_pdf": ASSESSMENT, "workshops.index": ASSESSMENT,
    **{f"admin.{name}": (ADMIN, {}) for name in ("audit", "audit_export", "rubrics", "users")},
    "admin.disable_user": (ADMIN, {"user_id": "member"}),
    "admin.appoint_owner": (ADMIN, {"workspace_id": "workspace"}),
    **{f"portfolios.{name}": PORTFOLIO for name in ("dashboard", "agencies", "export_csv", "export_json", "report",
                                                     "export_pdf")},
    "portfolios.agency": (ADMIN, {"portfolio_id": "portfolio", "agency_id": "agency"}),
    "workshops.dashboard": WORKSHOP, "workshops.close": WORKSHOP,
    "workshops.consensus_question": (ADMIN, {"workshop_id": "workshop", "question_id": "question"}),
    "workshops.forget": (ADMIN, {"workshop_id": "workshop", "participant_id": "participant"}),
    "workshops.remove": (ADMIN, {"workshop_id": "workshop", "participant_id": "participant"}),
    "participate.home": (PARTICIPANT, {"workshop_id": "workshop"}),
    "participate.dimension": (PARTICIPANT, {"workshop_id": "workshop", "dimension_id": "dimension"}),
    "auth.login": (NOBODY, {}), "auth.setup": (NOBODY, {}), "home.health": (NOBODY, {}),
    "participate.join": (NOBODY, {}), "participate.join_code": (NOBODY, {"code": "code"}),
    "workspaces.invite": (NOBODY, {"token": "invite"}), "portfolios.join": (NOBODY, {"token": "agency_invite"}),
}
UNTIMED = {"static": "a file, not a page"}


def _value(ids: dict, name: str, key: str):
    if key == "rubric":
        return ids["rubric"][0 if name == "rubric_id" else 1]
    return ids[key]


def urls(app, ids: dict) -> list[tuple[str, str, str]]:
    """(endpoint, role, URL) of every GET route, by rule; the routes without a recipe are printed."""
    found = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in UNTIMED:
                continue
            if rule.endpoint not in ROUTES:
                print(f"not timed (no recipe in bench/scale.py): {rule.rule}")
                continue
            role, args = ROUTES[rule.endpoint]
            values = {name: _value(ids, name, key) for name, key in args.items()}
            found.append((rule.endpoint, role, app.url_for(rule.endpoint, **values)))
    return found


def clients(app, ids: dict) -> dict:
    """A test client per role, logged in (the participant joined through the join page)."""
    made = {role: app.test_client() for role in (OWNER, ADMIN, PARTICIPANT, NOBODY)}
    with app.app_context():
        owner = accounts.get_user(get_db(), ids["owner"])["email"]
    for role, email in ((ADMIN, "bench@example.org"), (OWNER, owner)):
        response = made[role].post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, (role, response.status_code)  # noqa: S101 (a sanity check)
    response = made[PARTICIPANT].post(f"/join/{ids['code']}", data={"display_name": "Bench participant"})
    assert response.status_code == 302, response.status_code  # noqa: S101
    return made


def request(client, connection, url: str) -> tuple[float, int, object, float]:
    """One GET: its time, the SQL statements it ran on the app's connection, the response, and the
    CPU time it took (less sensitive than its time to other work on a shared machine)."""
    statements = []
    connection.set_trace_callback(statements.append)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        return time.perf_counter() - start, len(statements), response, time.process_time() - cpu
    finally:
        connection.set_trace_callback(None)


def measure(app, made: dict, url: str, role: str) -> dict:
    client = made[role]
    with app.app_context():
        connection = get_db().conn  # the thread's connection, which the requests use
    client.get(url)  # code, templates and the OS's page cache warm
    app.extensions.get("sovready.caches", {}).clear()
    first, first_sql, response, first_cpu = request(client, connection, url)
    again = [request(client, connection, url) for _ in range(REPEATS)]
    return {"status": response.status_code, "first": first * 1000, "first_sql": first_sql,
            "first_cpu": first_cpu * 1000, "again_cpu": statistics.median(c for *_, c in again) * 1000,
            "again": statistics.median(t for t, *_ in again) * 1000, "again_sql": again[-1][1],
            "kib": len(response.data) / 1024}


def instance(folder: Path, kept: str | None) -> tuple[object, dict]:
    """The app on a seeded database: from ``kept`` when it exists, else seeded now (and kept there)."""
    app = create_app(CONFIG, instance_path=folder)  # creates and migrates an empty database
    database = app.config["DATABASE"]
    if kept and Path(kept).exists():
        _copy(kept, database)
        ids = json.loads(Path(f"{kept}.json").read_text())
        app = create_app(CONFIG, instance_path=folder)  # migrates the copy, if the code is newer
    else:
        start = time.perf_counter()
        ids = seed(database, app.config["DEFAULT_RUBRIC"])
        print(f"seeded in {time.perf_counter() - start:.0f} s")
        if kept:
            _copy(database, kept)
            Path(f"{kept}.json").write_text(json.dumps(ids))
    return app, ids


def _copy(source: str, target: str) -> None:
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


def main():
    arguments(__doc__)  # --help
    logging.getLogger("sovready.security").disabled = True  # a line per refused request, not the figures
    kept = sys.argv[sys.argv.index("--database") + 1] if "--database" in sys.argv else None
    with tempfile.TemporaryDirectory() as folder:
        app, ids = instance(Path(folder), kept)
        ids |= {"dimension": stored_rubric_of(app, ids).dimensions[0].id, "invite_id": invite_id(app, ids)}
        made = clients(app, ids)
        rows = [(endpoint, role, url, measure(app, made, url, role)) for endpoint, role, url in urls(app, ids)]
        print_table(rows)
        shutil.rmtree(folder, ignore_errors=True)


def stored_rubric_of(app, ids: dict):
    with app.app_context():
        return stored_rubric(get_db(), *ids["rubric"])


def invite_id(app, ids: dict) -> int:
    with app.app_context():
        return accounts.pending_invites(get_db(), ids["workspace"])[0]["id"]


def print_table(rows: list) -> None:
    print(f"{'first ms':>9} {'again ms':>9} {'1st CPU':>8} {'again CPU':>9} "
          f"{'SQL 1st':>7} {'SQL again':>9} {'KiB':>6} {'status':>6}  "
          f"{'role':<16} route")
    for endpoint, role, url, m in sorted(rows, key=lambda row: -row[3]["first"]):
        print(f"{m['first']:9.1f} {m['again']:9.1f} {m['first_cpu']:8.1f} {m['again_cpu']:9.1f} "
              f"{m['first_sql']:7d} {m['again_sql']:9d} {m['kib']:6.0f} "
              f"{m['status']:6d}  {role:<16} {endpoint} {url}")


if __name__ == "__main__":
    main()
