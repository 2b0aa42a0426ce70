"""SQLite storage: connection settings, write transactions and schema migrations."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 10_000
migrations = Migrations("sovready")
# Beside the database, the file whose flock() writer processes queue on (write_transaction).
WRITER_LOCK = "-writer.lock"
# Beside the database, the file every process that keeps the database open holds a shared flock()
# on (mark_open), so that a restore can tell that none does. Not WRITER_LOCK: its writers take it
# exclusively, so a process holding that one shared for its whole life would stop every write.
OPEN_LOCK = "-open.lock"
_writers: dict[tuple[int, str], tuple[threading.Lock, int]] = {}
_writers_lock = threading.Lock()


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database with WAL, full fsync, a busy timeout, foreign keys and secure deletes."""
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    # Deleted content is overwritten with zeros: otherwise a deleted assessment's PDF, answers and
    # notes stay in free pages, which the backup API copies into every later backup. Debian's
    # SQLite is built with this on; other builds are not.
    db.execute("PRAGMA secure_delete = ON")
    return db


# The SQLite errors that are the machine's doing, not the request's, each as a person is told it
# (errors.py): trying again later may work, and nothing the person typed was wrong. By primary
# result code (an extended code's low byte).
UNAVAILABLE = {
    sqlite3.SQLITE_FULL: "its disk is full",
    sqlite3.SQLITE_BUSY: "the database is busy",
    sqlite3.SQLITE_LOCKED: "the database is busy",
    sqlite3.SQLITE_IOERR: "its disk could not be written",
    sqlite3.SQLITE_READONLY: "its database is read-only",
    sqlite3.SQLITE_CANTOPEN: "it could not open its database",
}


def unavailable(error: BaseException) -> str | None:
    """Why the database could not be used, in words for a person, when ``error`` is the machine's
    doing (``UNAVAILABLE``); None for any other error (a mistake in the code)."""
    code = getattr(error, "sqlite_errorcode", None)
    return UNAVAILABLE.get(code & 0xFF) if isinstance(error, sqlite3.Error) and code is not None else None


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A transaction that takes the write lock up front.

    A plain BEGIN (what ``db.atomic()`` issues) that reads and then writes can fail with
    SQLITE_BUSY under concurrent writers whatever the busy timeout; BEGIN IMMEDIATE waits.
    """
    with _writer_queue(db):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            # SQLite has already rolled back after some errors (SQLITE_FULL, SQLITE_IOERR): a
            # second ROLLBACK would fail and hide the error that says what happened.
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")


@contextmanager
def _writer_queue(db: sqlite_utils.Database) -> Iterator[None]:
    """Wait for the write lock in a queue that wakes the next writer as soon as it is free.

    SQLite's busy handler sleeps in growing steps (up to 100 ms) before it retries, which made
    the slowest answer submissions under load wait hundreds of milliseconds (bench/web.py).
    Threads queue on a lock, processes on flock() of a file beside the database; both wake
    the next writer at once. An in-memory database needs neither.
    """
    path = db.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        yield
        return
    key = (os.getpid(), path)  # a forked worker opens its own file, or flock would not exclude
    with _writers_lock:
        if key not in _writers:
            _writers[key] = (threading.Lock(), os.open(f"{path}{WRITER_LOCK}", os.O_RDWR | os.O_CREAT, 0o600))
    lock, fd = _writers[key]
    with lock:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def open_lock(path: str | Path) -> int:
    """A descriptor of the database's OPEN_LOCK file, made if missing. Read-only, and readable by
    all (it holds nothing): flock() needs no more, so a lock file made by root (a restore run
    with sudo) can still be locked by the server's own user."""
    return os.open(f"{path}{OPEN_LOCK}", os.O_RDONLY | os.O_CREAT, 0o644)


def make_folder(path: str | Path) -> None:
    """The folder of the database at ``path``, made if missing, and then the owner's alone: it holds
    every organization's answers and the password hashes, which a usual umask lets every account read."""
    folder = Path(path).parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:  # a file in the folder's place: "File exists" read as if the database did
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None


def mark_open(path: str | Path) -> int:
    """Mark the database at ``path`` open in this process, until the descriptor returned is closed
    or the process ends, however it ends: the kernel releases a flock() with the last descriptor
    of its file, so a killed server leaves no stale mark, unlike a PID file. Forked children share
    it. Waits while a restore replaces the database. Makes the database's folder, as ``init`` does."""
    make_folder(path)
    fd = open_lock(path)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def first_row(db: sqlite_utils.Database, sql: str, params: list) -> dict | None:
    """The first row a SELECT returns, as a dict, or None.

    For the reads every page makes (who is logged in, the assessment, the membership):
    sqlite-utils' ``query()`` wraps each statement in a savepoint and its release, three
    statements for one.
    """
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else None


def hash_token(token: str) -> str:
    """What is stored of a secret token (sessions, invitations, participants): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def random_id() -> int:
    """A row id for things whose id appears in URLs (workspaces, portfolios): unguessable, unlike
    1, 2, 3..., which would also tell anyone how many there are. Within 2**53, so that any JSON
    reader keeps it exact; a clash among so many is not worth a retry."""
    return secrets.randbelow(2**53 - 1) + 1


def now() -> str:
    """The current time as stored in every table: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def later(hours: float) -> str:
    """The time ``hours`` from now, as ``now`` writes it: when a session or a link ends."""
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")


@migrations(name="001_rubrics")
def _create_rubrics(db: sqlite_utils.Database) -> None:
    db.table("rubrics").create(
        {"id": str, "version": str, "sha256": str, "source": str, "added_at": str},
        pk=("id", "version"),
    )


@migrations(name="002_accounts")
def _create_accounts(db: sqlite_utils.Database) -> None:
    # Raw SQL for what sqlite-utils' create() cannot say: CHECK constraints and ON DELETE rules.
    for statement in ACCOUNTS_SCHEMA:
        db.execute(statement)


@migrations(name="003_assessments")
def _create_assessments(db: sqlite_utils.Database) -> None:
    for statement in ASSESSMENTS_SCHEMA:
        db.execute(statement)


@migrations(name="004_cohort_summary")
def _add_cohort_summary(db: sqlite_utils.Database) -> None:
    # Each assessment's '_overall' row also carries its dimension scores as JSON, so that a
    # cohort of 10,000 is one indexed read of 10,000 rows rather than a join over 90,000.
    db.execute("ALTER TABLE scores ADD COLUMN dimensions TEXT")
    db.execute("""UPDATE scores SET dimensions = (
                      SELECT json_group_object(d.dimension, d.score) FROM scores d
                      WHERE d.assessment_id = scores.assessment_id AND d.dimension != '_overall')
                  WHERE dimension = '_overall'""")


@migrations(name="005_reports")
def _create_reports(db: sqlite_utils.Database) -> None:
    # PDFs are cached by the digest of everything they are made from; jobs track the worker.
    db.execute("""CREATE TABLE report_files (
        digest TEXT PRIMARY KEY,
        pdf BLOB NOT NULL,
        created_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE report_jobs (
        digest TEXT PRIMARY KEY,
        assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        error TEXT NOT NULL DEFAULT '',
        queued_at TEXT NOT NULL,
        finished_at TEXT)""")
    db.execute("CREATE INDEX report_jobs_assessment ON report_jobs(assessment_id)")


@migrations(name="006_workshops")
def _create_workshops(db: sqlite_utils.Database) -> None:
    for statement in WORKSHOPS_SCHEMA:
        db.execute(statement)


@migrations(name="007_portfolios")
def _create_portfolios(db: sqlite_utils.Database) -> None:
    for statement in PORTFOLIOS_SCHEMA:
        db.execute(statement)


@migrations(name="008_failures")
def _generalize_failures(db: sqlite_utils.Database) -> None:
    # Wrong passwords are rate-limited like wrong join codes: one table of failures by key.
    db.execute("CREATE TABLE failures (key TEXT NOT NULL, at TEXT NOT NULL)")
    db.execute("CREATE INDEX failures_key ON failures(key, at)")
    db.execute("INSERT INTO failures SELECT 'join:' || address, at FROM join_failures")
    db.execute("DROP TABLE join_failures")


@migrations(name="009_audit")
def _create_audit(db: sqlite_utils.Database) -> None:
    for statement in AUDIT_SCHEMA:
        db.execute(statement)


@migrations(name="010_report_subjects")
def _generalize_report_jobs(db: sqlite_utils.Database) -> None:
    # Portfolio reports join the worker's queue: a job is for an assessment or for a portfolio
    # round, each still a foreign key that cascades. SQLite cannot relax NOT NULL in place, so
    # the table is rebuilt (nothing references it).
    db.execute("""CREATE TABLE report_jobs_new (
        digest TEXT PRIMARY KEY,
        assessment_id TEXT REFERENCES assessments(id) ON DELETE CASCADE,
        portfolio_id INTEGER REFERENCES portfolios(id) ON DELETE CASCADE,
        round_id INTEGER REFERENCES portfolio_rounds(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        error TEXT NOT NULL DEFAULT '',
        queued_at TEXT NOT NULL,
        finished_at TEXT,
        CHECK ((assessment_id IS NULL) = (portfolio_id IS NOT NULL AND round_id IS NOT NULL)))""")
    db.execute("""INSERT INTO report_jobs_new (digest, assessment_id, status, error, queued_at, finished_at)
                  SELECT digest, assessment_id, status, error, queued_at, finished_at FROM report_jobs""")
    db.execute("DROP TABLE report_jobs")
    db.execute("ALTER TABLE report_jobs_new RENAME TO report_jobs")
    db.execute("CREATE INDEX report_jobs_assessment ON report_jobs(assessment_id)")
    db.execute("CREATE INDEX report_jobs_portfolio ON report_jobs(portfolio_id, round_id)")


@migrations(name="011_content_tokens")
def _add_content_tokens(db: sqlite_utils.Database) -> None:
    # A random token replaced by every write to an assessment or its answers (records.py): what
    # the web app keys its cached results by, without reading and hashing every answer.
    db.execute("ALTER TABLE assessments ADD COLUMN content_token TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE assessments SET content_token = lower(hex(randomblob(8)))")


@migrations(name="012_cohorts_token")
def _add_cohorts_token(db: sqlite_utils.Database) -> None:
    # A random token that triggers replace on every change to any assessment or its scores: what
    # the web app keys pages showing the live cohorts by. Triggers, so that no write path can
    # forget it; random rather than counted, so that a restored backup cannot reuse a key.
    db.execute("CREATE TABLE change_tokens (name TEXT PRIMARY KEY, token TEXT NOT NULL)")
    db.execute("INSERT INTO change_tokens VALUES ('cohorts', lower(hex(randomblob(8))))")
    replace = "UPDATE change_tokens SET token = lower(hex(randomblob(8))) WHERE name = 'cohorts'"
    for table in ("assessments", "scores"):
        for event in ("INSERT", "UPDATE", "DELETE"):  # names from these constants only
            db.execute(f"CREATE TRIGGER {table}_{event.lower()}_cohorts AFTER {event} ON {table} BEGIN {replace}; END")


@migrations(name="013_report_files_follow_jobs")
def _delete_report_files_with_their_jobs(db: sqlite_utils.Database) -> None:
    # A PDF holds an assessment's answers and evidence notes, and report_files, keyed by digest,
    # has no foreign key: it outlived its assessment in the database and every later backup. Now
    # a PDF goes with its job, however the job goes: its assessment deleted (the job cascades, as
    # from a workspace, portfolio or round), or a newer report stored (jobs.py). A trigger, so that
    # no deletion path can forget it. Digests now name their assessment or round (jobs.py), so
    # every PDF stored before is out of date, those of deleted assessments included: they go now
    # and render again when asked.
    db.execute("CREATE TRIGGER report_jobs_delete_file AFTER DELETE ON report_jobs "
               "BEGIN DELETE FROM report_files WHERE digest = OLD.digest; END")
    db.execute("DELETE FROM report_jobs")
    db.execute("DELETE FROM report_files")


@migrations(name="014_portfolio_reports_follow_their_agencies")
def _delete_round_reports_with_an_agency(db: sqlite_utils.Database) -> None:
    # A portfolio report prints every agency's scores. An agency's assessment deleted (or the
    # agency removed, or its workspace) took its row out of round_assessments, yet the round's PDF
    # kept its figures until the round's next report was stored. The round's jobs go now, and
    # their PDFs with them (013); the report renders again, without that agency, when asked.
    db.execute("CREATE TRIGGER round_assessments_delete_reports AFTER DELETE ON round_assessments "
               "BEGIN DELETE FROM report_jobs WHERE round_id = OLD.round_id; END")


@migrations(name="015_round_assessments_by_assessment")
def _index_round_assessments_by_assessment(db: sqlite_utils.Database) -> None:
    # Every journey page asks whether its assessment belongs to a closed round
    # (portfolios.closed_round), and deleting an assessment cascades here: both by assessment id,
    # which the primary key (round, agency) does not cover, so each scanned the whole table.
    db.execute("CREATE INDEX round_assessments_assessment ON round_assessments(assessment_id)")


@migrations(name="016_invitations_of_former_owners")
def _delete_invitations_of_former_owners(db: sqlite_utils.Database) -> None:
    # An invitation works only while its creator is an enabled owner of its workspace. Until now a
    # demoted, removed or disabled owner's links were refused, not deleted, so making them an
    # owner again revived the links; accounts.py now deletes them at the change. These are the
    # ones left from before, already refused at use: no audit entry.
    db.execute("DELETE FROM invites WHERE used_at IS NULL AND NOT EXISTS (SELECT 1 FROM memberships "
               "JOIN users ON users.id = memberships.user_id WHERE memberships.workspace_id = invites.workspace_id "
               "AND memberships.user_id = invites.created_by AND role = 'owner' AND NOT users.disabled)")


@migrations(name="017_portfolio_report_filters")
def _add_report_filters(db: sqlite_utils.Database) -> None:
    # A portfolio report follows the dashboard's filters (type, size): one round has a PDF per
    # filter, each replaced only by a newer one of the same filter (jobs._forget_superseded).
    # The filters as canonical JSON; '{}' for every agency and for assessment reports.
    db.execute("ALTER TABLE report_jobs ADD COLUMN filters TEXT NOT NULL DEFAULT '{}'")


@migrations(name="018_rounds_count_deleted_agencies")
def _count_deleted_agencies(db: sqlite_utils.Database) -> None:
    # An agency that deletes its workspace takes its assessments with it, those of closed rounds
    # too (round_assessments cascades): its data going is right, a closed round silently one
    # agency smaller is not. Each round counts the assessments of it that went after it closed,
    # and the owner's dashboard and PDF of the round say so. A trigger, so that no deletion path
    # can forget it; the open round is not counted, since there the agency shows as having left.
    db.execute("ALTER TABLE portfolio_rounds ADD COLUMN deleted_after_closing INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE TRIGGER round_assessments_count_deleted AFTER DELETE ON round_assessments "
               "BEGIN UPDATE portfolio_rounds SET deleted_after_closing = deleted_after_closing + 1 "
               "WHERE id = OLD.round_id AND closed_at IS NOT NULL; END")


@migrations(name="019_report_jobs_requested_by")
def _name_who_asked_for_each_report(db: sqlite_utils.Database) -> None:
    # One person may have only a few reports waiting to render (jobs.PENDING_PER_PERSON), or one
    # editor could queue hundreds ahead of everyone else's: a job names who asked for it.
    db.execute("ALTER TABLE report_jobs ADD COLUMN requested_by INTEGER REFERENCES users(id) ON DELETE SET NULL")


@migrations(name="020_invitations_closed_to_new_accounts")
def _close_invitations_to_new_accounts(db: sqlite_utils.Database) -> None:
    # An invitation refusing a taken address stayed open, so whoever held the link could try
    # address after address and learn which have accounts. The first refused address now closes
    # the link to new accounts (accounts.register_with_invite): it still lets an existing account
    # join by logging in, and answers every further address alike.
    db.execute("ALTER TABLE invites ADD COLUMN accounts_closed_at TEXT")


@migrations(name="021_agency_links_expire")
def _expire_agency_links(db: sqlite_utils.Database) -> None:
    # An agency's link worked until used, for ever: it now ends after AGENCY_LINK_DAYS or when
    # the round it was sent for closes, whichever comes first (portfolios.invitation). Links
    # already sent get the default 30 days from the upgrade, in the current round.
    db.execute("ALTER TABLE portfolio_agencies ADD COLUMN link_expires_at TEXT")
    db.execute("ALTER TABLE portfolio_agencies ADD COLUMN link_round_id INTEGER "
               "REFERENCES portfolio_rounds(id) ON DELETE SET NULL")
    expires = later(30 * 24)
    db.execute("UPDATE portfolio_agencies SET link_expires_at = ?, link_round_id = (SELECT max(id) FROM "
               "portfolio_rounds WHERE portfolio_id = portfolio_agencies.portfolio_id) "
               "WHERE token_hash IS NOT NULL AND joined_at IS NULL", [expires])


@migrations(name="022_workshop_joins_stopped")
def _let_facilitators_stop_new_joins(db: sqlite_utils.Database) -> None:
    # A join code shown on a screen leaks easily, and only closing the workshop kept strangers
    # from joining, which also stopped the room answering: new joins can now be stopped alone.
    db.execute("ALTER TABLE workshops ADD COLUMN joins_stopped_at TEXT")


@migrations(name="023_agency_links_closed_to_new_accounts")
def _close_agency_links_to_new_accounts(db: sqlite_utils.Database) -> None:
    # An agency's link told its holder which addresses have accounts, as invitations did before
    # migration 020: the first taken address now closes it to new accounts the same way
    # (portfolios.register_and_join); an existing account still accepts it by logging in.
    db.execute("ALTER TABLE portfolio_agencies ADD COLUMN accounts_closed_at TEXT")


@migrations(name="024_indexes_for_deletes")
def _index_the_keys_deletes_follow(db: sqlite_utils.Database) -> None:
    # SQLite finds a deleted row's children by their foreign key: without an index it scanned the
    # whole table once per row, and deleting a workspace with a 1,000-agency portfolio scanned
    # round_assessments once per agency, report_jobs once per agency's assessment (the trigger
    # of migration 014 follows round_id), invites and portfolio_agencies once per workspace or
    # round. Keys to users and rubrics need none: neither is ever deleted.
    db.execute("CREATE INDEX round_assessments_agency ON round_assessments(agency_id)")
    db.execute("CREATE INDEX report_jobs_round ON report_jobs(round_id)")
    db.execute("CREATE INDEX portfolio_agencies_link_round ON portfolio_agencies(link_round_id)")
    db.execute("CREATE INDEX invites_workspace ON invites(workspace_id)")


@migrations(name="025_indexes_for_users_keys")
def _index_the_users_keys_searched(db: sqlite_utils.Database) -> None:
    # No user is deleted, but two writes look rows up by who made them: every report request counts
    # the user's pending jobs (report_jobs keeps a row per PDF ever asked for), and removing, demoting
    # or disabling an owner withdraws the invitations they created. Both scanned their whole table.
    db.execute("CREATE INDEX report_jobs_requested_by ON report_jobs(requested_by, queued_at)")
    db.execute("CREATE INDEX invites_created_by ON invites(created_by)")


@migrations(name="026_random_ids_for_counted_workspaces_and_portfolios")
def _replace_counted_ids(db: sqlite_utils.Database) -> None:
    # Workspace and portfolio ids are in URLs (/w/<id>, /portfolios/<id>), and random_id has made them
    # unguessable since it came; those made before kept 1, 2, 3..., which any member could count on
    # from and which told how many organizations use the instance. They get random ids now, and so
    # does every row naming them; their old addresses answer 404.
    db.execute("PRAGMA defer_foreign_keys = ON")  # parents and children change apart, checked at commit
    _replace_ids(db, "workspaces", "action = 'workspace.owner_appointed'")
    _replace_ids(db, "portfolios", "action LIKE 'portfolio.%'")


def _replace_ids(db: sqlite_utils.Database, table: str, audited: str) -> None:
    """Give ``table``'s counted ids random ones, in every column whose foreign key names it (read from
    the schema) and in the subjects of its ``audited`` audit entries ("portfolio 3"). A counter stays
    below 2**32; a random id is there once in two million, and is replaced too."""
    children = db.execute("SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
                          "WHERE m.type = 'table' AND f.\"table\" = ?", [table]).fetchall()
    noun = table.removesuffix("s")
    # Table and column names below come from this module and the schema, never from input.
    for (old,) in db.execute(f"SELECT id FROM {table} WHERE id < ?", [2**32]).fetchall():  # noqa: S608
        new = random_id()
        db.execute(f"UPDATE {table} SET id = ? WHERE id = ?", [new, old])  # noqa: S608
        for child, column in children:
            db.execute(f"UPDATE {child} SET {column} = ? WHERE {column} = ?", [new, old])  # noqa: S608
        db.execute(f"UPDATE audit SET subject = ? WHERE subject = ? AND {audited}",  # noqa: S608
                   [f"{noun} {new}", f"{noun} {old}"])


@migrations(name="027_agency_figures")
def _keep_agency_figures(db: sqlite_utils.Database) -> None:
    # A portfolio summary takes each finished agency's gaps and linked scores (portfolios.agency_figures):
    # kept in memory only, the first view of a 1,000-agency round after each restart scored them all
    # again, 0.6 to 0.8 s of CPU. One row per assessment, under the key of what they follow from (its
    # content token, the rubric, the peers, the code): a row whose key differs is never read, only
    # replaced. The figures go with the assessment.
    db.execute("""CREATE TABLE agency_figures (
        assessment_id TEXT PRIMARY KEY REFERENCES assessments(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        gaps TEXT NOT NULL,
        linked TEXT)""")


@migrations(name="028_report_jobs_worker")
def _record_who_renders_a_report(db: sqlite_utils.Database) -> None:
    # A job left running by a worker that was killed (or a machine restarted) stayed "running" for
    # ever, and asking again did nothing. A job now records the process rendering it and since when
    # (jobs.process_identity), so that one whose process is gone is known lost (jobs.lost). A job
    # running before this migration names none: it is lost once QUEUE_PATIENCE has passed.
    db.execute("ALTER TABLE report_jobs ADD COLUMN started_at TEXT")
    db.execute("ALTER TABLE report_jobs ADD COLUMN worker TEXT NOT NULL DEFAULT ''")


ACCOUNTS_SCHEMA = (
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL)""",
    # Only a hash of each session token is stored: a copy of the database opens no session.
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL)""",
    "CREATE INDEX sessions_user ON sessions(user_id)",
    """CREATE TABLE workspaces (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE memberships (
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        PRIMARY KEY (workspace_id, user_id))""",
    "CREATE INDEX memberships_user ON memberships(user_id)",
    """CREATE TABLE invites (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        used_at TEXT)""",
)

ASSESSMENTS_SCHEMA = (
    """CREATE TABLE assessments (
        id TEXT PRIMARY KEY,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        organization TEXT NOT NULL DEFAULT '',
        profile TEXT NOT NULL DEFAULT '{}',
        drivers TEXT NOT NULL DEFAULT '{}',
        barriers TEXT NOT NULL DEFAULT '[]',
        targets TEXT NOT NULL DEFAULT '{}',
        rubric_id TEXT NOT NULL,
        rubric_version TEXT NOT NULL,
        parent_id TEXT REFERENCES assessments(id) ON DELETE SET NULL,
        opt_in_benchmark INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubrics(id, version))""",
    "CREATE INDEX assessments_workspace ON assessments(workspace_id, updated_at)",
    "CREATE INDEX assessments_parent ON assessments(parent_id)",
    """CREATE TABLE answers (
        assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        value TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        basis TEXT NOT NULL DEFAULT 'self_assessed' CHECK (basis IN ('self_assessed', 'evidenced')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (assessment_id, question_id))""",
    # One row per dimension and one for the whole assessment (dimension '_overall', which no
    # rubric id can be), refreshed on every save. Rubric id and version are repeated here so
    # that cohort statistics over many assessments read one covering index, not every row.
    """CREATE TABLE scores (
        assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
        dimension TEXT NOT NULL,
        rubric_id TEXT NOT NULL,
        rubric_version TEXT NOT NULL,
        score REAL,
        completeness REAL NOT NULL,
        answered INTEGER NOT NULL,
        total INTEGER NOT NULL,
        stage TEXT,
        PRIMARY KEY (assessment_id, dimension))""",
    "CREATE INDEX scores_cohort ON scores(rubric_id, rubric_version, dimension, score)",
)

# A portfolio belongs to a workspace (its owners see it) and pins one rubric version and peer
# dataset; each agency answers in its own workspace, one assessment per round.
PORTFOLIOS_SCHEMA = (
    """CREATE TABLE portfolios (
        id INTEGER PRIMARY KEY,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        rubric_id TEXT NOT NULL,
        rubric_version TEXT NOT NULL,
        peers TEXT,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubrics(id, version))""",
    "CREATE INDEX portfolios_workspace ON portfolios(workspace_id)",
    """CREATE TABLE portfolio_rounds (
        id INTEGER PRIMARY KEY,
        portfolio_id INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        closed_at TEXT)""",
    "CREATE INDEX portfolio_rounds_portfolio ON portfolio_rounds(portfolio_id, id)",
    # Only a hash of each agency's invite token is stored; it is cleared when the agency joins.
    """CREATE TABLE portfolio_agencies (
        id INTEGER PRIMARY KEY,
        portfolio_id INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL DEFAULT '',
        size TEXT NOT NULL DEFAULT '',
        contact TEXT NOT NULL DEFAULT '',
        workspace_id INTEGER REFERENCES workspaces(id) ON DELETE SET NULL,
        token_hash TEXT UNIQUE,
        invited_at TEXT NOT NULL,
        joined_at TEXT,
        UNIQUE (portfolio_id, name COLLATE NOCASE))""",
    "CREATE INDEX portfolio_agencies_workspace ON portfolio_agencies(workspace_id)",
    """CREATE TABLE round_assessments (
        round_id INTEGER NOT NULL REFERENCES portfolio_rounds(id) ON DELETE CASCADE,
        agency_id INTEGER NOT NULL REFERENCES portfolio_agencies(id) ON DELETE CASCADE,
        assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
        PRIMARY KEY (round_id, agency_id))""",
)


# Workshops (assessment/workshops.py): many people answer one assessment's questions on their
# own; the facilitator records a consensus per question, which becomes the assessment's answer.
WORKSHOPS_SCHEMA = (
    """CREATE TABLE workshops (
        id TEXT PRIMARY KEY,
        assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
        dimensions TEXT NOT NULL,
        join_code TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'revealed', 'closed')),
        revealed_at TEXT,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        closed_at TEXT)""",
    "CREATE INDEX workshops_assessment ON workshops(assessment_id, created_at)",
    # Only a hash of a participant's token is kept; NULL once their personal data is deleted.
    """CREATE TABLE participants (
        id INTEGER PRIMARY KEY,
        workshop_id TEXT NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        display_name TEXT NOT NULL,
        token_hash TEXT UNIQUE,
        joined_at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX participants_workshop ON participants(workshop_id)",
    """CREATE TABLE participant_answers (
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (participant_id, question_id))""",
    """CREATE TABLE consensus (
        workshop_id TEXT NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
        rationale TEXT NOT NULL DEFAULT '',
        decided_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        decided_at TEXT NOT NULL,
        PRIMARY KEY (workshop_id, question_id))""",
    # Failed join-code attempts per client address, for the rate limit (shared by all workers).
    "CREATE TABLE join_failures (address TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE INDEX join_failures_address ON join_failures(address, at)",
)


# The audit log (assessment/audit.py). The actor's name and email are copied, so an entry still
# says who it was after the account is gone; assessment_id has no foreign key, so the history of
# a deleted assessment stays. workspace_id NULL: an instance-wide event (rubric upload, account
# disabled), which administrators see. Entries go with their workspace.
AUDIT_SCHEMA = (
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        workspace_id INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        assessment_id TEXT,
        subject TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX audit_workspace ON audit(workspace_id, at)",
)


class NewerDatabase(ValueError):
    """A database a newer sovready has migrated: this code does not know its schema."""


def refuse_newer(path: str | Path, applied: Iterable[str]) -> None:
    """NewerDatabase if ``applied``, the names of the migrations a database has, holds one this
    code does not have: it would run on tables it does not know, which a later upgrade's migrations
    would not expect either."""
    # pending() on an empty database lists every migration this code has.
    known = {migration.name for migration in migrations.pending(sqlite_utils.Database(memory=True))}
    if unknown := sorted(set(applied) - known):
        raise NewerDatabase(f"{path}: made by a newer sovready (migrations unknown to this one: "
                            f"{', '.join(unknown)}): upgrade sovready first")


def init(path: str | Path) -> sqlite_utils.Database:
    """Create or upgrade the database at ``path`` and return a connection to it; NewerDatabase if
    a newer sovready has migrated it."""
    make_folder(path)
    db = connect(path)
    try:
        refuse_newer(path, [migration.name for migration in migrations.applied(db)])
    except NewerDatabase:
        db.close()
        raise
    migrations.apply(db)
    return db


def register_rubric(db: sqlite_utils.Database, rubric_id: str, version: str, source: str) -> None:
    """Record a rubric version's text once, so assessments can keep the version they used."""
    with write_transaction(db):
        insert_rubric(db, rubric_id, version, source)


def insert_rubric(db: sqlite_utils.Database, rubric_id: str, version: str, source: str) -> bool:
    """``register_rubric`` inside the caller's write transaction; True when the version is new."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    existing = db.execute(
        "SELECT sha256 FROM rubrics WHERE id = ? AND version = ?", [rubric_id, version]
    ).fetchone()
    if existing is not None and existing[0] != digest:
        raise ValueError(f"rubric {rubric_id} {version} is already stored with different content; "
                         "raise its version")
    if existing is None:
        db.table("rubrics").insert({
            "id": rubric_id, "version": version, "sha256": digest, "source": source,
            "added_at": now(),
        })
    return existing is None
