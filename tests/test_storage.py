"""SQLite storage: settings, migrations, and no lost writes under several writer processes."""

import multiprocessing
import re
import sqlite3

import pytest

from assessment import accounts, portfolios, storage

WRITERS = 8  # the issue asks for 8 writer processes
INCREMENTS = 40


def test_connection_uses_wal_full_sync_busy_timeout_and_foreign_keys(tmp_path):
    db = storage.init(tmp_path / "s.db")
    pragma = lambda name: db.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("busy_timeout") == storage.BUSY_TIMEOUT_MS
    assert pragma("foreign_keys") == 1


def test_migrations_are_named_and_applied_once(tmp_path):
    path = tmp_path / "s.db"
    storage.init(path).close()
    db = storage.init(path)
    names = [row["name"] for row in db.query("SELECT name FROM _sqlite_migrations")]
    assert names == ["001_rubrics", "002_accounts", "003_assessments", "004_cohort_summary", "005_reports",
                     "006_workshops", "007_portfolios", "008_failures", "009_audit", "010_report_subjects",
                     "011_content_tokens", "012_cohorts_token", "013_report_files_follow_jobs",
                     "014_portfolio_reports_follow_their_agencies", "015_round_assessments_by_assessment",
                     "016_invitations_of_former_owners", "017_portfolio_report_filters",
                     "018_rounds_count_deleted_agencies", "019_report_jobs_requested_by",
                     "020_invitations_closed_to_new_accounts", "021_agency_links_expire",
                     "022_workshop_joins_stopped",
                     "023_agency_links_closed_to_new_accounts", "024_indexes_for_deletes",
                     "025_indexes_for_users_keys", "026_random_ids_for_counted_workspaces_and_portfolios",
                     "027_agency_figures", "028_report_jobs_worker"]
    assert db.table("rubrics").exists()


def test_an_assessments_portfolio_round_is_found_by_index_not_by_scanning(tmp_path):
    db = storage.init(tmp_path / "s.db")
    plan = " ".join(row[3] for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT round_id FROM round_assessments WHERE assessment_id = ?", ["x"]))
    assert "USING INDEX round_assessments_assessment" in plan


# Never deleted: accounts are disabled, rubric versions kept; a key to them needs no index.
KEPT = {"users", "rubrics"}


def _keys_followed_on_delete(db):
    """(child table, its columns) for each foreign key to a table whose rows are deleted."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        keys = {}
        for key_id, _, parent, column, *_ in db.execute(f"PRAGMA foreign_key_list({table})"):
            keys.setdefault((key_id, parent), []).append(column)
        yield from ((table, columns) for (_, parent), columns in keys.items() if parent not in KEPT)


def test_every_key_a_delete_follows_is_searched_by_index_not_scanned(tmp_path):
    """Found by a closing note: deleting a workspace with a portfolio scanned round_assessments once
    per agency and report_jobs once per agency's assessment (a trigger follows round_id), and invites
    and portfolio_agencies once per workspace or round. SQLite runs the statement below for each
    deleted parent row (a cascade or SET NULL), so its plan is the delete's."""
    db = storage.init(tmp_path / "s.db")
    scanned = []
    for table, columns in _keys_followed_on_delete(db):
        where = " AND ".join(f"{column} = ?" for column in columns)
        plan = " ".join(row[3] for row in db.execute(
            f"EXPLAIN QUERY PLAN DELETE FROM {table} WHERE {where}", [1] * len(columns)))  # noqa: S608 (names from the schema)
        if not plan.startswith("SEARCH") or "USING" not in plan:
            scanned.append(f"{table}({', '.join(columns)}): {plan}")
    assert scanned == []


def test_a_rubric_version_cannot_change_content(tmp_path):
    db = storage.init(tmp_path / "s.db")
    storage.register_rubric(db, "r", "1.0.0", "text")
    storage.register_rubric(db, "r", "1.0.0", "text")
    with pytest.raises(ValueError, match="already stored with different content; raise its version"):
        storage.register_rubric(db, "r", "1.0.0", "changed")
    assert db.table("rubrics").count == 1


def test_failed_write_transaction_rolls_back(tmp_path):
    db = storage.init(tmp_path / "s.db")
    with pytest.raises(RuntimeError):
        with storage.write_transaction(db):
            db.table("rubrics").insert({"id": "x", "version": "1.0.0", "sha256": "", "source": "", "added_at": ""})
            raise RuntimeError("boom")
    assert db.table("rubrics").count == 0


def _increment(path, worker):
    db = storage.connect(path)
    for _ in range(INCREMENTS):
        with storage.write_transaction(db):
            (value,) = db.execute("SELECT value FROM counter WHERE id = 1").fetchone()
            db.execute("UPDATE counter SET value = ? WHERE id = 1", [value + 1])
            db.execute("INSERT INTO writes (worker) VALUES (?)", [worker])
    db.close()


def test_several_writer_processes_lose_no_write(tmp_path):
    """Read-then-write under BEGIN IMMEDIATE: every increment lands, none fails with SQLITE_BUSY."""
    path = tmp_path / "c.db"
    db = storage.init(path)
    db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
    db.execute("CREATE TABLE writes (worker INTEGER)")
    db.execute("INSERT INTO counter VALUES (1, 0)")
    db.conn.commit()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_increment, args=(str(path), i)) for i in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * WRITERS
    assert db.execute("SELECT value FROM counter").fetchone()[0] == WRITERS * INCREMENTS
    assert db.execute("SELECT count(*) FROM writes").fetchone()[0] == WRITERS * INCREMENTS


def test_cohort_summary_migration_backfills_existing_scores(tmp_path):
    """Scores stored before 004 get their dimension summary when the migration runs."""
    path = tmp_path / "old.db"
    db = storage.connect(path)
    storage.migrations.apply(db, stop_before="004_cohort_summary")
    db.execute("PRAGMA foreign_keys = OFF")  # a bare scores row, without its assessment
    db.execute("INSERT INTO scores (assessment_id, dimension, rubric_id, rubric_version, score, completeness, "
               "answered, total) VALUES ('a', 'data', 'r', '1.0.0', 50, 1, 6, 6), "
               "('a', '_overall', 'r', '1.0.0', 50, 1, 6, 6)")
    db.conn.commit()
    storage.migrations.apply(db)
    assert db.execute("SELECT dimensions FROM scores WHERE dimension = '_overall'").fetchone()[0] == '{"data":50.0}'


def test_report_subjects_migration_keeps_assessment_jobs_and_wants_exactly_one_subject(tmp_path):
    db = storage.connect(tmp_path / "old.db")
    storage.migrations.apply(db, stop_before="010_report_subjects")
    db.execute("PRAGMA foreign_keys = OFF")  # a bare job row, without its assessment
    db.execute("INSERT INTO report_jobs (digest, assessment_id, status, queued_at) VALUES ('d', 'a', 'done', 't')")
    db.conn.commit()
    storage.migrations.apply(db, stop_before="013_report_files_follow_jobs")  # which drops every job
    assert db.execute("SELECT digest, assessment_id, portfolio_id, status FROM report_jobs").fetchall() == [
        ("d", "a", None, "done")]
    for subject in ([None, None, None], ["a", 1, 1], [None, 1, None]):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO report_jobs (digest, assessment_id, portfolio_id, round_id, status, queued_at) "
                       "VALUES ('e', ?, ?, ?, 'queued', 't')", subject)


def test_content_tokens_migration_gives_each_existing_assessment_its_own(tmp_path):
    db = storage.connect(tmp_path / "old.db")
    storage.migrations.apply(db, stop_before="011_content_tokens")
    db.execute("PRAGMA foreign_keys = OFF")  # bare assessment rows, without workspace or rubric
    for name in ("a", "b"):
        db.execute("INSERT INTO assessments (id, workspace_id, title, rubric_id, rubric_version, created_at, "
                   "updated_at) VALUES (?, 1, 'T', 'r', '1.0.0', 't', 't')", [name])
    db.conn.commit()
    storage.migrations.apply(db)
    tokens = [token for (token,) in db.execute("SELECT content_token FROM assessments")]
    assert len(set(tokens)) == 2 and all(len(token) == 16 for token in tokens)


def test_report_files_migration_drops_the_pdfs_stored_before_those_of_deleted_assessments_too(tmp_path):
    db = storage.connect(tmp_path / "old.db")
    storage.migrations.apply(db, stop_before="013_report_files_follow_jobs")
    db.execute("PRAGMA foreign_keys = OFF")  # a bare job row, without its assessment
    db.execute("INSERT INTO report_jobs (digest, assessment_id, status, queued_at) VALUES ('d', 'a', 'done', 't')")
    db.execute("INSERT INTO report_files VALUES ('d', x'00', 't'), ('of-a-deleted-one', x'00', 't')")
    db.conn.commit()
    storage.migrations.apply(db)
    assert db.execute("SELECT count(*) FROM report_files").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM report_jobs").fetchone()[0] == 0


def test_invitations_of_former_owners_migration_deletes_them_so_that_none_revives(tmp_path):
    """Before 016 a demoted or disabled owner's links were only refused while they stayed so."""
    db = storage.connect(tmp_path / "old.db")
    storage.migrations.apply(db, stop_before="016_invitations_of_former_owners")
    owner, workspace = accounts.create_first_admin(db, "o@example.org", "Olga", "correct horse battery staple", "W")
    former = accounts.create_user(db, "f@example.org", "Fred", "correct horse battery staple")
    db.execute("INSERT INTO memberships VALUES (?, ?, 'owner')", [workspace, former])
    db.conn.commit()
    kept = accounts.create_invite(db, workspace, "viewer", owner, 1)
    accounts.create_invite(db, workspace, "owner", former, 1)
    db.execute("UPDATE memberships SET role = 'editor' WHERE user_id = ?", [former])  # as set_role did then
    db.conn.commit()
    storage.migrations.apply(db)
    assert [row[0] for row in db.execute("SELECT created_by FROM invites")] == [owner]
    db.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", [former])
    assert accounts.open_invite(db, kept) is not None
    assert len(accounts.pending_invites(db, workspace)) == 1


def test_a_database_from_a_newer_sovready_is_refused_at_start(tmp_path):
    """After a downgrade the older code went on running on a schema it does not know."""
    path = tmp_path / "s.db"
    db = storage.init(path)
    db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
               "VALUES ('sovready', '999_from_the_future', '2030-01-01')")
    db.close()
    with pytest.raises(storage.NewerDatabase, match="^" + re.escape(
            f"{path}: made by a newer sovready (migrations unknown to this one: 999_from_the_future): "
            "upgrade sovready first") + "$"):
        storage.init(path)


def test_agency_links_migration_gives_links_already_sent_30_days_in_their_portfolios_current_round(tmp_path):
    """Before 021 an agency's link worked until used, for ever: each unused one now ends 30 days
    from the upgrade or when its portfolio's current round closes; a used one gets no end."""
    db = storage.connect(tmp_path / "old.db")
    storage.migrations.apply(db, stop_before="021_agency_links_expire")
    db.execute("PRAGMA foreign_keys = OFF")  # bare portfolios and agencies, without rubric or agencies' workspaces
    db.execute("INSERT INTO workspaces (id, name, created_at) VALUES (1, 'Ministry', 't')")
    db.execute("INSERT INTO portfolios (id, workspace_id, name, rubric_id, rubric_version, created_at) "
               "VALUES (1, 1, 'A', 'r', '1.0.0', 't'), (2, 1, 'B', 'r', '1.0.0', 't')")
    db.execute("INSERT INTO portfolio_rounds (id, portfolio_id, name, opened_at, closed_at) VALUES "
               "(10, 1, '2025', 't', 't'), (11, 2, '2026', 't', NULL), (12, 1, '2026', 't', NULL)")
    db.execute("INSERT INTO portfolio_agencies (id, portfolio_id, name, token_hash, invited_at, joined_at, "
               "workspace_id) VALUES (1, 1, 'Waiting in A', ?, 't', NULL, NULL), (2, 1, 'Joined', NULL, 't', 't', 5), "
               "(3, 2, 'Waiting in B', ?, 't', NULL, NULL)", [storage.hash_token("a"), storage.hash_token("b")])
    db.conn.commit()
    earliest = storage.later(30 * 24)
    storage.migrations.apply(db)
    latest = storage.later(30 * 24)
    rows = {name: (expires, round_id) for name, expires, round_id in db.execute(
        "SELECT name, link_expires_at, link_round_id FROM portfolio_agencies")}
    assert rows["Joined"] == (None, None)
    assert (rows["Waiting in A"][1], rows["Waiting in B"][1]) == (12, 11)  # each portfolio's latest round
    assert all(earliest <= rows[name][0] <= latest for name in ("Waiting in A", "Waiting in B"))
    assert not portfolios.invitation(db, "a")["expired"]  # the link still works after the upgrade
    db.execute("UPDATE portfolio_rounds SET closed_at = 't' WHERE id = 12")
    assert portfolios.invitation(db, "a")["expired"] and not portfolios.invitation(db, "b")["expired"]


def test_counted_workspace_and_portfolio_ids_migration_replaces_them_and_every_row_naming_them(tmp_path):
    """Before random ids, workspaces and portfolios were 1, 2, 3... in URLs; an upgrade kept them."""
    db = storage.connect(tmp_path / "old.db")
    storage.migrations.apply(db, stop_before="026_random_ids_for_counted_workspaces_and_portfolios")
    random = 2**40
    db.execute("INSERT INTO users (id, email, name, password_hash, created_at) VALUES (7, 'a@example.org', 'A', 'h', 't')")
    db.execute("INSERT INTO workspaces (id, name, created_at) VALUES (1, 'Ministry', 't'), (2, 'Agency', 't'), "
               "(?, 'Made since', 't')", [random])
    db.execute("INSERT INTO memberships VALUES (1, 7, 'owner'), (2, 7, 'owner')")
    db.execute("INSERT INTO invites (token_hash, workspace_id, role, created_at, expires_at) VALUES ('h', 2, 'viewer', 't', 't')")
    db.execute("INSERT INTO rubrics VALUES ('r', '1.0.0', 's', 'src', 't')")
    db.execute("INSERT INTO assessments (id, workspace_id, title, rubric_id, rubric_version, created_at, updated_at) "
               "VALUES ('a', 2, 'A', 'r', '1.0.0', 't', 't')")
    db.execute("INSERT INTO portfolios (id, workspace_id, name, rubric_id, rubric_version, created_at) "
               "VALUES (1, 1, 'P', 'r', '1.0.0', 't')")
    db.execute("INSERT INTO portfolio_rounds (id, portfolio_id, name, opened_at) VALUES (10, 1, '2025', 't')")
    db.execute("INSERT INTO portfolio_agencies (id, portfolio_id, name, workspace_id, invited_at) VALUES (3, 1, 'Agency', 2, 't')")
    db.execute("INSERT INTO round_assessments VALUES (10, 3, 'a')")
    db.execute("INSERT INTO report_jobs (digest, portfolio_id, round_id, status, queued_at) VALUES ('d', 1, 10, 'done', 't')")
    db.execute("INSERT INTO audit (at, workspace_id, actor, action, subject) VALUES "
               "('t', 1, 'A', 'portfolio.created', 'portfolio 1'), ('t', NULL, 'A', 'workspace.owner_appointed', "
               "'workspace 2'), ('t', NULL, 'A', 'workspace.deleted', 'workspace 1'), ('t', 2, 'A', 'member.role', 'user 1')")
    db.conn.commit()
    storage.migrations.apply(db)
    ministry, agency, since = (db.execute("SELECT id FROM workspaces WHERE name = ?", [name]).fetchone()[0]
                               for name in ("Ministry", "Agency", "Made since"))
    (portfolio,) = db.execute("SELECT id FROM portfolios").fetchone()
    assert all(2**20 < i < 2**53 for i in (ministry, agency, portfolio)) and since == random
    assert db.execute("SELECT workspace_id FROM memberships ORDER BY role, workspace_id = ?", [agency]).fetchall() == [
        (ministry,), (agency,)]
    assert db.execute("SELECT workspace_id FROM invites UNION ALL SELECT workspace_id FROM assessments "
                      "UNION ALL SELECT workspace_id FROM portfolio_agencies").fetchall() == [(agency,)] * 3
    assert db.execute("SELECT workspace_id FROM portfolios").fetchone() == (ministry,)
    assert db.execute("SELECT portfolio_id FROM portfolio_rounds UNION ALL SELECT portfolio_id FROM portfolio_agencies "
                      "UNION ALL SELECT portfolio_id FROM report_jobs").fetchall() == [(portfolio,)] * 3
    assert [row[0] for row in db.execute("SELECT subject FROM audit ORDER BY id")] == [
        f"portfolio {portfolio}", f"workspace {agency}", "workspace 1", "user 1"]  # a deleted one's stays
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def _scans(db, run) -> list[str]:
    """The tables that the SELECTs ``run()`` makes read whole: each statement's plan, as executed."""
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        run()
    finally:
        db.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects, "the function made no query"
    return [detail for s in selects for *_, detail in db.execute(f"EXPLAIN QUERY PLAN {s}")
            if detail.startswith("SCAN") and "VIRTUAL TABLE" not in detail]


def test_a_users_workspaces_left_without_an_owner_are_found_from_the_user_not_by_scanning_every_one(tmp_path):
    # The members page asks this of its viewer: it read every workspace of the instance.
    db = storage.init(tmp_path / "s.db")
    user, _ = accounts.create_first_admin(db, "a@example.org", "A", "correct horse battery staple", "A")
    accounts.create_workspace(db, "B", user)
    assert _scans(db, lambda: accounts.ownerless_workspaces(db, without=user)) == []
    assert [w["name"] for w in accounts.ownerless_workspaces(db, without=user)] == ["A", "B"]


def test_the_keys_to_users_that_writes_search_by_are_indexed(tmp_path):
    # Every report request counts its user's pending jobs; removing an owner withdraws their invitations.
    from assessment import jobs

    db = storage.init(tmp_path / "s.db")
    user, workspace = accounts.create_first_admin(db, "a@example.org", "A", "correct horse battery staple", "A")
    accounts.create_invite(db, workspace, "viewer", user, 1)
    assert _scans(db, lambda: jobs._pending(db, user)) == []
    with storage.write_transaction(db):
        assert _scans(db, lambda: accounts._withdraw_invites_of(db, user, None, None)) == []
    assert db.execute("SELECT count(*) FROM invites").fetchone()[0] == 0
