"""Portfolios: an owner benchmarks invited agencies on one pinned rubric version, round by round.

No Flask here. Each agency answers in its own workspace; the portfolio links each round to the
agency's assessment of that round (``round_assessments``). The owner's workspace owns the portfolio.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import logging
import re
import secrets
import sqlite3
from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import sqlite_utils

from . import __version__, accounts, audit, records
from .benchmark import linked_scores, with_overall_share
from .cohorts import Member
from .peers import PeerDataset
from .portfolio_stats import Summary, filter_rows, summarize
from .rubric import Rubric
from .rubrics import peers_for
from .scoring import Gap, score
from .storage import first_row, hash_token, later, now, random_id, unavailable, write_transaction

CSV_COLUMNS = ("name", "type", "size", "contact")
NAME_MAX = 200
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
log = logging.getLogger(__name__)
LINK_DAYS = 30  # how long an agency's link works, unless AGENCY_LINK_DAYS says otherwise
# The modules that compute an agency's figures and keep them (agency_figures): rows kept by other code are not read.
FIGURES_CODE = ("answers.py", "benchmark.py", "rubric.py", "scoring.py", "portfolios.py")
_new_tuple = tuple.__new__  # a Gap from its fields read back, without NamedTuple's slower __new__


class AgencyRowsError(ValueError):
    """Agencies refused: one message per problem, each with its line number."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        super().__init__("; ".join(f"line {line}: {message}" for line, message in problems))


@dataclass(frozen=True)
class Invited:
    """An agency just invited, with the one-time token of its link (never stored in clear)."""

    id: int
    name: str
    token: str



# Portfolios and rounds ---------------------------------------------------------------------

def create_portfolio(db: sqlite_utils.Database, workspace_id: int, name: str, rubric: Rubric,
                     round_name: str, created_by: int | None) -> int:
    """A portfolio pinning ``rubric`` and its peer dataset, with its first round open."""
    with write_transaction(db):
        portfolio_id = random_id()
        db.execute(
            "INSERT INTO portfolios (id, workspace_id, name, rubric_id, rubric_version, peers, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [portfolio_id, workspace_id, name.strip(), rubric.id, rubric.version, rubric.peers, created_by, now()])
        _insert_round(db, portfolio_id, round_name)
        audit.record(db, workspace_id, created_by, "portfolio.created", f"portfolio {portfolio_id}",
                     f"{name.strip()}; rubric {rubric.id} {rubric.version}; round {round_name.strip()}")
    return portfolio_id


def _log(db: sqlite_utils.Database, portfolio_id: int, by: int | None, action: str, detail: str,
         actor: str | None = None) -> None:
    """An audit entry in the workspace that owns the portfolio (inside the change's transaction)."""
    (workspace_id,) = db.execute("SELECT workspace_id FROM portfolios WHERE id = ?", [portfolio_id]).fetchone()
    audit.record(db, workspace_id, by, action, f"portfolio {portfolio_id}", detail, actor=actor)


def _insert_round(db: sqlite_utils.Database, portfolio_id: int, name: str) -> int:
    return db.execute("INSERT INTO portfolio_rounds (portfolio_id, name, opened_at) VALUES (?, ?, ?)",
                      [portfolio_id, name.strip(), now()]).lastrowid


def get_portfolio(db: sqlite_utils.Database, portfolio_id: int) -> dict | None:
    return next(db.query("SELECT * FROM portfolios WHERE id = ?", [portfolio_id]), None)


def portfolios_in(db: sqlite_utils.Database, workspace_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM portfolios WHERE workspace_id = ? ORDER BY name", [workspace_id]))


def rounds(db: sqlite_utils.Database, portfolio_id: int) -> list[dict]:
    """The portfolio's rounds, latest first: the first is the current one."""
    return list(db.query("SELECT * FROM portfolio_rounds WHERE portfolio_id = ? ORDER BY id DESC", [portfolio_id]))


# Agencies and their invitations -----------------------------------------------------------

def _check_row(row: dict) -> str | None:
    """Why one agency row is refused, or None."""
    if not row["name"]:
        return "the name is empty"
    if len(row["name"]) > NAME_MAX or any(len(v) > NAME_MAX for v in row.values()):
        return f"a value is longer than {NAME_MAX} characters"
    if row["contact"] and not EMAIL.match(row["contact"]):
        return f"contact {row['contact']!r} is not an email address"
    return None


# What Excel saves: "CSV UTF-8" (with a BOM), "Unicode text" (UTF-16 with a BOM, tab-separated),
# or plain "CSV" in the machine's code page, which the bytes do not name: cp1252 in Western
# Europe, cp1250 in Central Europe. Guessing one would misspell the others' names without a word.
NOT_UTF8 = ("the file is not UTF-8 text: in Excel, save it as \"CSV UTF-8 (Comma delimited)\" or as "
            "\"Unicode text\"; in LibreOffice, choose the character set \"Unicode (UTF-8)\"")
DELIMITERS = (",", ";", "\t")  # Excel's CSV where the comma is the decimal sign has semicolons


def decode_agencies_file(data: bytes) -> str:
    """The text of an uploaded agencies file: UTF-16 if it starts with its BOM, else UTF-8 (with or
    without a BOM); AgencyRowsError saying how to save it otherwise."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AgencyRowsError([(0, NOT_UTF8)]) from None


def _delimiter(text: str) -> str:
    """The delimiter that splits the header line into the expected columns; else the comma. Told
    by the header line only: a name in a semicolon file may hold commas."""
    header = text.split("\n", 1)[0].strip("\r")
    return next((d for d in DELIMITERS if tuple(h.strip().lower() for h in header.split(d)) == CSV_COLUMNS), ",")


def _csv_lines(text: str):
    """(line, cells) for each CSV record; AgencyRowsError for a file the csv module cannot read."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as error:  # e.g. a field longer than the csv module's limit (128 KiB)
        raise AgencyRowsError([(reader.line_num, f"the file cannot be read as CSV ({error})")]) from None


def parse_agencies_csv(text: str) -> list[tuple[int, dict]]:
    """(line, agency) pairs from a CSV headed name,type,size,contact (or with semicolons or tabs
    between them); AgencyRowsError lists every bad line."""
    lines = _csv_lines(text)
    header = [h.strip().lower() for h in next(lines, (1, []))[1]]
    if tuple(header) != CSV_COLUMNS:
        found = ",".join(header) or "nothing"
        raise AgencyRowsError([(1, f"the header must be {','.join(CSV_COLUMNS)} (found {found})")])
    rows, problems, first_lines = [], [], {}
    for line, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(CSV_COLUMNS):
            problems.append((line, f"expected {len(CSV_COLUMNS)} columns, found {len(cells)}"))
            continue
        row = dict(zip(CSV_COLUMNS, (c.strip() for c in cells), strict=True))
        first = first_lines.setdefault(row["name"].lower(), line)
        problem = _check_row(row) or _duplicate(row, first, line)
        problems += [(line, problem)] if problem else []
        rows.append((line, row))
    if not rows and not problems:  # else the upload would succeed without a word, inviting no one
        problems.append((0, "the file lists no agencies below its header"))
    if problems:
        raise AgencyRowsError(problems)
    return rows


def _duplicate(row: dict, first: int, line: int) -> str | None:
    """A name that an earlier line of the file already gave (a pasted line twice): ``first`` is the line
    that first gave it. A contact may repeat, as in the one-by-one form: one person (a shared IT
    service) can be the contact of several agencies."""
    return f"{row['name']!r} is already on line {first}" if first != line else None


def invite_agencies(db: sqlite_utils.Database, portfolio_id: int, rows: list[tuple[int, dict]], *,
                    days: int = LINK_DAYS, by: int | None = None) -> list[Invited]:
    """Invite every agency or none (one transaction); AgencyRowsError for names already in the portfolio.
    An agency whose workspace was deleted is invited again under its name: its own row, with a new link.
    Each link works for ``days``, and only while the current round is open."""
    invited = []
    with write_transaction(db):
        taken = _agency_names(db, portfolio_id)
        clashes = [(line, f"{row['name']!r} is already invited") for line, row in rows
                   if row["name"].lower() in taken and taken[row["name"].lower()] is None]
        if clashes:
            raise AgencyRowsError(clashes)
        for _, row in rows:
            left = taken.get(row["name"].lower())
            agency_id = _insert_agency(db, portfolio_id, row) if left is None else _invite_again(db, left, row)
            invited.append(_new_link(db, portfolio_id, agency_id, row["name"], days))
            detail = row["name"] if left is None else f"{row['name']}, again: its workspace was deleted"
            _log(db, portfolio_id, by, "agency.invited", detail)  # never the link's token
    return invited


def _agency_names(db: sqlite_utils.Database, portfolio_id: int) -> dict[str, int | None]:
    """The portfolio's agency names, lower-case, each with the agency's id if its workspace was deleted
    (it joined, then left with its data: the name is free for it again), else None (taken)."""
    return {name.lower(): agency_id if left else None for agency_id, name, left in db.execute(
        "SELECT id, name, joined_at IS NOT NULL AND workspace_id IS NULL FROM portfolio_agencies "
        "WHERE portfolio_id = ?", [portfolio_id])}


def _insert_agency(db: sqlite_utils.Database, portfolio_id: int, row: dict) -> int:
    return db.execute(
        "INSERT INTO portfolio_agencies (portfolio_id, name, type, size, contact, invited_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [portfolio_id, row["name"], row["type"], row["size"], row["contact"], now()]).lastrowid


def _invite_again(db: sqlite_utils.Database, agency_id: int, row: dict) -> int:
    """An agency whose workspace was deleted, as given now: not joined until it accepts, as if new."""
    db.execute("UPDATE portfolio_agencies SET name = ?, type = ?, size = ?, contact = ?, invited_at = ?, "
               "joined_at = NULL WHERE id = ?",
               [row["name"], row["type"], row["size"], row["contact"], now(), agency_id])
    return agency_id


def _new_link(db: sqlite_utils.Database, portfolio_id: int, agency_id: int, name: str, days: int) -> Invited:
    """A new one-time link for the agency, in place of any earlier one: ``days`` long, this round
    only, and open to a new account again (an earlier link's closing went with it)."""
    token = secrets.token_urlsafe(32)
    db.execute("UPDATE portfolio_agencies SET token_hash = ?, link_expires_at = ?, link_round_id = ?, "
               "accounts_closed_at = NULL WHERE id = ?",
               [hash_token(token), later(days * 24), rounds(db, portfolio_id)[0]["id"], agency_id])
    return Invited(agency_id, name, token)


def renew_link(db: sqlite_utils.Database, portfolio_id: int, agency_id: int, *, days: int = LINK_DAYS,
               by: int | None = None) -> Invited | None:
    """A fresh link for an agency that has not joined (the earlier one stops working), or None."""
    with write_transaction(db):
        found = db.execute("SELECT name FROM portfolio_agencies WHERE id = ? AND portfolio_id = ? "
                           "AND joined_at IS NULL", [agency_id, portfolio_id]).fetchone()
        if found is None:
            return None
        _log(db, portfolio_id, by, "agency.link_renewed", found[0])  # never the link's token
        return _new_link(db, portfolio_id, agency_id, found[0], days)


# A link ends after its days or when the round it was sent for closes: an agency that has not
# joined by then is sent a fresh one, for the round it will answer.
_INVITATION_SQL = """
SELECT ag.*, p.name AS portfolio, w.name AS workspace, u.name AS sender,
       ag.link_expires_at <= :now OR r.closed_at IS NOT NULL AS expired
FROM portfolio_agencies ag JOIN portfolios p ON p.id = ag.portfolio_id JOIN workspaces w ON w.id = p.workspace_id
LEFT JOIN users u ON u.id = p.created_by LEFT JOIN portfolio_rounds r ON r.id = ag.link_round_id
WHERE ag.joined_at IS NULL AND {where}
"""


def invitation(db: sqlite_utils.Database, token: str) -> dict | None:
    """The agency an unused token names, with its portfolio's and owning workspace's names, the
    name of whoever created the portfolio (``sender``) and whether the link has ``expired``; or None."""
    return first_row(db, _INVITATION_SQL.format(where="ag.token_hash = :token"),
                     {"now": now(), "token": hash_token(token)})


def open_invitation(db: sqlite_utils.Database, token: str) -> dict | None:
    """The agency an unused, unexpired invite token names, with its portfolio's name, or None."""
    found = invitation(db, token)
    return found if found and not found["expired"] else None


def pending_links(db: sqlite_utils.Database, portfolio_id: int) -> dict[int, dict]:
    """The links not used yet, by agency id: when each ends (``link_expires_at``) and whether it has."""
    rows = db.query(_INVITATION_SQL.format(where="ag.portfolio_id = :portfolio AND ag.token_hash IS NOT NULL"),
                    {"now": now(), "portfolio": portfolio_id})
    return {row["id"]: row for row in rows}


def _claim(db: sqlite_utils.Database, token: str, user_id: int) -> dict:
    """Inside a write transaction: use the token once, giving the agency a workspace owned by the user."""
    agency = open_invitation(db, token)
    if agency is None:
        raise ValueError("This invitation has already been used or does not exist.")
    workspace_id = accounts.insert_workspace(db, agency["name"], user_id)  # in the claim's transaction
    db.execute("UPDATE portfolio_agencies SET workspace_id = ?, joined_at = ?, token_hash = NULL WHERE id = ?",
               [workspace_id, now(), agency["id"]])
    return {**agency, "workspace_id": workspace_id}


def join(db: sqlite_utils.Database, token: str, user_id: int, rubric: Rubric) -> tuple[dict, str]:
    """A logged-in user accepts an agency's invitation: (agency, its assessment for the current round)."""
    with write_transaction(db):
        agency = _claim(db, token, user_id)
    return agency, ensure_assessment(db, agency, rubric, user_id)


def register_and_join(db: sqlite_utils.Database, token: str, email: str, name: str, password: str,
                      rubric: Rubric) -> tuple[int, dict, str]:
    """A new account that accepts the invitation, or neither: (user id, agency, assessment id)."""
    with write_transaction(db):
        agency = open_invitation(db, token)
        if agency is None:
            raise ValueError("This invitation has already been used or does not exist.")
        if accounts.link_makes_account(db, agency["accounts_closed_at"], email):
            user_id = accounts.insert_user(db, email, name, password, False)
            agency = _claim(db, token, user_id)
        else:
            user_id = None
            _close_to_new_accounts(db, agency)
    if user_id is None:  # raised after the commit, which keeps the link closed
        raise accounts.NoNewAccount
    return user_id, agency, ensure_assessment(db, agency, rubric, user_id)


def _close_to_new_accounts(db: sqlite_utils.Database, agency: dict) -> None:
    """Close the agency's link to new accounts at the first taken address, as invitations are
    (``accounts.register_with_invite``): refusing only that address would let the holder try one
    address after another and learn which have accounts."""
    if agency["accounts_closed_at"] is None:
        db.execute("UPDATE portfolio_agencies SET accounts_closed_at = ? WHERE id = ?", [now(), agency["id"]])
        _log(db, agency["portfolio_id"], None, "agency.accounts_closed",
             f"{agency['name']}: {accounts.LINK_CLOSED_DETAIL}", actor=accounts.LINK_HOLDER)


def ensure_assessment(db: sqlite_utils.Database, agency: dict, rubric: Rubric, user_id: int | None) -> str:
    """The agency's assessment for the current round, created on the pinned rubric if it has none yet."""
    current = rounds(db, agency["portfolio_id"])[0]
    found = db.execute("SELECT assessment_id FROM round_assessments WHERE round_id = ? AND agency_id = ?",
                       [current["id"], agency["id"]]).fetchone()
    if found:
        return found[0]
    title = f"{agency['name']} ({current['name']})"
    assessment_id = records.create_assessment(db, agency["workspace_id"], rubric, title,
                                              organization=agency["name"], created_by=user_id)
    with write_transaction(db):
        _link(db, current["id"], agency["id"], assessment_id)
    return assessment_id


def _link(db: sqlite_utils.Database, round_id: int, agency_id: int, assessment_id: str) -> None:
    """Inside the caller's write transaction."""
    db.execute("INSERT OR IGNORE INTO round_assessments (round_id, agency_id, assessment_id) VALUES (?, ?, ?)",
               [round_id, agency_id, assessment_id])


def open_round(db: sqlite_utils.Database, portfolio_id: int, rubric: Rubric, name: str, user_id: int | None) -> int:
    """Close the current round and open a new one: each joined agency's assessment continues as a new round.
    ValueError for a name the portfolio's rounds already have (a form sent twice opened two rounds).

    One transaction: a round stopped halfway (a restart, a full disk) closed the previous one with
    only some agencies continued, and one commit, not two per agency, is what makes 300 quick."""
    with write_transaction(db):  # read under the write lock: a second request sees the first's round
        all_rounds = rounds(db, portfolio_id)
        if name.strip().lower() in {r["name"].lower() for r in all_rounds}:
            raise ValueError(f"This portfolio already has a round named {name.strip()}.")
        previous = all_rounds[0]
        db.execute("UPDATE portfolio_rounds SET closed_at = ? WHERE id = ?", [now(), previous["id"]])
        # The closed round's assessments are read-only from now on: a new content token makes
        # their cached journey pages, which showed forms, render again (records.content_token).
        db.execute("UPDATE assessments SET content_token = ? WHERE id IN (SELECT assessment_id FROM "
                   "round_assessments WHERE round_id = ?)", [records.content_token(), previous["id"]])
        round_id = _insert_round(db, portfolio_id, name)
        _log(db, portfolio_id, user_id, "portfolio.round_opened", f"{previous['name']} → {name.strip()}")
        _continue_agencies(db, previous["id"], round_id, rubric, name.strip(), user_id)
    return round_id


def _continue_agencies(db: sqlite_utils.Database, previous_id: int, round_id: int, rubric: Rubric, name: str,
                       user_id: int | None) -> None:
    """Inside open_round's transaction: each assessment of the previous round continues in the new one."""
    for agency_id, assessment_id in db.execute(
            "SELECT agency_id, assessment_id FROM round_assessments WHERE round_id = ?", [previous_id]).fetchall():
        parent = records.get_assessment(db, assessment_id)
        title = re.sub(r"\s*\([^)]*\)$", "", parent.title) + f" ({name})"
        _link(db, round_id, agency_id, records.insert_round(db, parent, rubric, title, user_id))


def closed_round(db: sqlite_utils.Database, assessment_id: str) -> dict | None:
    """The closed round (its name, closed_at and portfolio's name) this assessment answered, or None.
    Such an assessment is that round's record: its results and the changes since stay as they were.
    Every journey page asks: first_row, not query(), which adds a savepoint and its release."""
    return first_row(db, "SELECT r.name, r.closed_at, p.name AS portfolio FROM round_assessments ra "
                     "JOIN portfolio_rounds r ON r.id = ra.round_id JOIN portfolios p ON p.id = r.portfolio_id "
                     "WHERE ra.assessment_id = ? AND r.closed_at IS NOT NULL", [assessment_id])


# Reading a round ---------------------------------------------------------------------------

_ROUND_SQL = """
SELECT ag.id, ag.name, ag.type, ag.size, ag.contact, ag.workspace_id, ag.joined_at, ra.assessment_id,
       o.score AS overall, o.stage, o.answered, o.total, o.dimensions, a.content_token
FROM portfolio_agencies ag
LEFT JOIN round_assessments ra ON ra.agency_id = ag.id AND ra.round_id = ?
LEFT JOIN assessments a ON a.id = ra.assessment_id
LEFT JOIN scores o ON o.assessment_id = ra.assessment_id AND o.dimension = '_overall'
WHERE ag.portfolio_id = ? ORDER BY ag.name COLLATE NOCASE
"""


def round_rows(db: sqlite_utils.Database, portfolio_id: int, round_id: int) -> list[dict]:
    """The agencies of the round with their assessment of it: progress (the '_overall' row ``records.progress``
    reads), overall index, stage, dimension scores and the assessment's ``content_token``. The current
    round lists every agency invited; a past one only those that had an assessment in it (an agency that
    joined later was not in it)."""
    current = rounds(db, portfolio_id)[0]["id"] == round_id
    rows = []
    for row in db.query(_ROUND_SQL, [round_id, portfolio_id]):
        if not (current or row["assessment_id"]):
            continue
        row["dimensions"] = json.loads(row["dimensions"]) if row["dimensions"] else {}
        row["finished"] = bool(row["total"]) and row["answered"] == row["total"]
        rows.append(row)
    return rows


def dimension_progress(db: sqlite_utils.Database, round_id: int) -> dict[str, dict[str, tuple[int, int]]]:
    """(answered, total) questions per dimension of each assessment of the round, by assessment id."""
    progress = {}
    for assessment_id, dimension, answered, total in db.execute(
            "SELECT s.assessment_id, s.dimension, s.answered, s.total FROM scores s "
            "JOIN round_assessments ra ON ra.assessment_id = s.assessment_id "
            "WHERE ra.round_id = ? AND s.dimension != ?", [round_id, records.OVERALL]):
        progress.setdefault(assessment_id, {})[dimension] = (answered, total)
    return progress


def members(rows: list[dict]) -> list[Member]:
    """The finished agencies of a round as cohort members; type and size are the cohort filters, and
    each agency's own workspace is the member's, so that a viewer's agencies can be left out."""
    return [Member(str(r["id"]), r["overall"], r["dimensions"], {"org_type": r["type"], "size": r["size"]},
                   r["workspace_id"]) for r in rows if r["finished"]]


def cohort_members(db: sqlite_utils.Database, portfolio_id: int) -> list[Member]:
    """The portfolio as a cohort: its finished agencies in the latest round."""
    return members(round_rows(db, portfolio_id, rounds(db, portfolio_id)[0]["id"]))


def agencies_of_workspace(db: sqlite_utils.Database, workspace_id: int) -> list[dict]:
    """The portfolios a workspace answers in as an agency, with the agency and portfolio names."""
    return list(db.query(
        "SELECT ag.id, ag.name, ag.portfolio_id, ag.workspace_id, p.name AS portfolio, p.rubric_id, p.rubric_version "
        "FROM portfolio_agencies ag JOIN portfolios p ON p.id = ag.portfolio_id WHERE ag.workspace_id = ? "
        "ORDER BY p.name", [workspace_id]))


def agency_assessment(db: sqlite_utils.Database, portfolio_id: int, agency_id: int, round_id: int) -> str | None:
    """The assessment id of one agency in one round of this portfolio, or None."""
    row = db.execute(
        "SELECT ra.assessment_id FROM round_assessments ra JOIN portfolio_agencies ag ON ag.id = ra.agency_id "
        "WHERE ag.portfolio_id = ? AND ag.id = ? AND ra.round_id = ?", [portfolio_id, agency_id, round_id]).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class AgencyFigures:
    """What a round's summary takes of one finished agency's answers: its gaps, and its scores on the
    questions linked to the survey (None without survey peers)."""

    gaps: tuple[Gap, ...]
    linked: dict[str, float | None] | None


class FiguresCache(Protocol):
    def get(self, key: Hashable) -> AgencyFigures | None: ...
    def put(self, key: Hashable, value: AgencyFigures) -> None: ...


class _Unkept:
    """No cache, for the worker: it renders a round's PDF once."""

    def get(self, key: Hashable) -> None:
        return None

    def put(self, key: Hashable, value: AgencyFigures) -> None:
        pass


def summary(db: sqlite_utils.Database, portfolio_id: int, rubric: Rubric, round_id: int,
            filters: dict[str, str] | None = None, known: FiguresCache | None = None, keep: bool = True) -> Summary:
    """A round's figures for the owner, over the agencies matching ``filters`` (type, size). Each
    finished agency's figures come from ``known`` or the database when they hold them for the
    assessment's content token (which every write replaces), else they are scored and put there
    (in the database unless not ``keep``: a read transaction cannot write)."""
    all_rounds = [r["id"] for r in rounds(db, portfolio_id)]
    earlier = [r for r in all_rounds if r < round_id]
    rows = filter_rows(round_rows(db, portfolio_id, round_id), filters or {})
    previous = filter_rows(round_rows(db, portfolio_id, earlier[0]), filters or {}) if earlier else []
    figures = agency_figures(db, rubric, [r for r in rows if r["finished"]], known or _Unkept(), keep)
    linked = [f.linked for f in figures if f.linked is not None]
    return summarize(rows, previous, [d.id for d in rubric.dimensions], (f.gaps for f in figures), linked)


def agency_figures(db: sqlite_utils.Database, rubric: Rubric, finished: list[dict],
                   known: FiguresCache, keep: bool = True) -> list[AgencyFigures]:
    """The figures of the ``finished`` rows, in their order (common gaps break ties by it): a round's
    1,000 agencies took a second to read and score, and one agency's change scored them all again.
    From ``known`` (memory), else from the database (``agency_figures``, which outlasts a restart),
    else scored and put in ``known`` and, if ``keep``, in the database."""
    peers = peers_for(rubric)
    basis = _figures_basis(rubric, peers)
    keys = {r["assessment_id"]: f"{r['content_token']} {basis}" for r in finished}
    found = {aid: known.get(key) for aid, key in keys.items()}
    wanted = {aid: keys[aid] for aid, figures in found.items() if figures is None}
    stored = _stored_figures(db, wanted)
    scored = _scored_figures(db, rubric, peers, [aid for aid in wanted if aid not in stored])
    if keep:
        _store_figures(db, {aid: (keys[aid], figures) for aid, figures in scored.items()})
    for aid, figures in (stored | scored).items():
        found[aid] = figures
        known.put(keys[aid], figures)
    return [found[r["assessment_id"]] for r in finished if found[r["assessment_id"]] is not None]


def _figures_basis(rubric: Rubric, peers: PeerDataset | None) -> str:
    """What an agency's figures follow from besides its answers (its content token): the rubric
    version (a stored one never changes), the peers' figures and the code that computes them."""
    peers_text = peers.model_dump_json() if peers else ""
    digest = hashlib.sha256(f"{rubric.id}\0{rubric.version}\0{peers_text}\0{_figures_code()}".encode())
    return digest.hexdigest()[:32]


@lru_cache(maxsize=1)
def _figures_code() -> str:
    """A digest of sovready's version and of FIGURES_CODE."""
    digest = hashlib.sha256(__version__.encode())
    for name in FIGURES_CODE:
        digest.update(Path(__file__).with_name(name).read_bytes())
    return digest.hexdigest()


def _scored_figures(db: sqlite_utils.Database, rubric: Rubric, peers: PeerDataset | None,
                    assessment_ids: list[str]) -> dict[str, AgencyFigures]:
    linked = with_overall_share(rubric, peers) if peers else ()  # the rubric's and peers', not each agency's
    return {aid: AgencyFigures(tuple(score(rubric, answer_set).gaps),
                               linked_scores(rubric, linked, answer_set) if peers else None)
            for aid, answer_set in records.answer_sets(db, assessment_ids).items()}


def _stored_figures(db: sqlite_utils.Database, keys: dict[str, str]) -> dict[str, AgencyFigures]:
    """The figures kept of these assessments under these keys (by assessment id); a row kept under
    another key (the answers or the rubric have changed since) is left out."""
    if not keys:
        return {}
    rows = db.execute("SELECT assessment_id, key, gaps, linked FROM agency_figures "
                      "WHERE assessment_id IN (SELECT value FROM json_each(?))", [json.dumps(list(keys))])
    return {aid: AgencyFigures(tuple(_new_tuple(Gap, gap) for gap in json.loads(gaps)),
                               json.loads(linked) if linked else None)
            for aid, key, gaps, linked in rows if key == keys[aid]}


def _store_figures(db: sqlite_utils.Database, figures: dict[str, tuple[str, AgencyFigures]]) -> None:
    """Keep the figures just scored, replacing the rows of earlier content; one statement however many.
    Keeping them only saves the next view a scoring: where the machine refuses the write (a full disk,
    the database locked past the busy timeout), the page that scored them is shown all the same."""
    if not figures:
        return
    rows = [[aid, key, json.dumps(f.gaps), None if f.linked is None else json.dumps(f.linked)]
            for aid, (key, f) in figures.items()]
    try:
        with write_transaction(db):
            db.execute(_STORE_FIGURES, [json.dumps(rows)])
    except sqlite3.Error as error:
        if (reason := unavailable(error)) is None:
            raise
        log.warning("could not keep the figures of %d agencies (%s): %s", len(rows), reason, error)


# The assessment may have been deleted since it was read: its figures are not kept then.
_STORE_FIGURES = """
INSERT INTO agency_figures (assessment_id, key, gaps, linked)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)
WHERE value ->> 0 IN (SELECT id FROM assessments)
ON CONFLICT (assessment_id) DO UPDATE SET key = excluded.key, gaps = excluded.gaps, linked = excluded.linked
"""
