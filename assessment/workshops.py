"""Workshops: many participants answer an assessment's questions, a facilitator records the consensus.

Repository functions take the database first and know nothing of Flask; the divergence
statistics are pure functions in divergence.py.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from . import audit, portfolios, records
from .answers import NOTE_MAX, Answer
from .divergence import Summary, divergence
from .rubric import LEVELS, Question, Rubric
from .storage import first_row, hash_token, later, now, write_transaction

# No 0/O, 1/I/L: codes are read off a projector and typed on phones. 31 symbols, 8 long:
# 31**8 (8.5e11) codes, against at most ratelimit.FAILURE_LIMIT guesses per address and window.
JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DELETED_NAME = "Deleted participant"
CONSENSUS_PREFIX = "Workshop consensus: "  # before the rationale, in the answer's note
RATIONALE_MAX = NOTE_MAX - len(CONSENSUS_PREFIX)  # what fits in a note with no evidence beside it
# A room's worth, with margin: without a cap anyone holding a leaked code, or a script, could add
# participants without bound. The setting WORKSHOP_MAX_PARTICIPANTS changes it.
MAX_PARTICIPANTS = 200
# A participant keeps their place while they are active (docs/workshop.md, *Participating*): each visit
# renews it for a day, long enough for the night between the two days of a workshop, and never beyond a
# week from joining, so that a forgotten phone's place does not last.
PARTICIPANT_IDLE_HOURS = 24
PARTICIPANT_DAYS = 7


class WorkshopClosed(Exception):
    """An answer arrived after the facilitator closed the workshop."""


class JoinsStopped(Exception):
    """Someone new tried to join after the facilitator stopped new joins."""


class WorkshopFull(Exception):
    """Someone new tried to join a workshop that has as many participants as the cap allows."""


class RoundClosed(Exception):
    """The workshop's assessment is the record of a closed portfolio round (``closed``, as
    ``portfolios.closed_round`` gives it): its workshops take no more answers, consensus or workshops."""

    def __init__(self, closed: dict):
        super().__init__(f"round {closed['name']} of the portfolio {closed['portfolio']} is closed")
        self.closed = closed


class RationaleTooLong(Exception):
    """The consensus line would not fit in the answer's note beside its evidence; ``room`` is what would."""

    def __init__(self, room: int):
        super().__init__(f"a rationale of at most {room} characters fits")
        self.room = room


@dataclass(frozen=True)
class Workshop:
    id: str
    assessment_id: str
    dimensions: tuple[str, ...]
    join_code: str
    status: str
    revealed_at: str | None
    created_by: int | None
    created_at: str
    closed_at: str | None
    joins_stopped_at: str | None

    @property
    def revealed(self) -> bool:
        return self.revealed_at is not None

    @property
    def closed(self) -> bool:
        return self.status == "closed"


def _from_row(row: dict) -> Workshop:
    return Workshop(**{**row, "dimensions": tuple(json.loads(row["dimensions"]))})



def normalize_code(text: str) -> str:
    """A join code as typed (any case, spaces or dashes) in its stored form."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def questions_of(rubric: Rubric, dimensions: Iterable[str]) -> list[Question]:
    """The workshop's questions, in rubric order."""
    chosen = set(dimensions)
    return [q for d in rubric.dimensions if d.id in chosen for q in d.questions]


# Workshops -----------------------------------------------------------------------------------

def create_workshop(db: sqlite_utils.Database, assessment_id: str, dimensions: list[str],
                    created_by: int | None) -> str:
    """Open a workshop on the given dimensions; returns its id."""
    if not dimensions:
        raise ValueError("a workshop needs at least one dimension")
    workshop_id = secrets.token_urlsafe(16)
    with write_transaction(db):
        _refuse_closed_round(db, assessment_id)
        db.table("workshops").insert({"id": workshop_id, "assessment_id": assessment_id,
                                      "dimensions": json.dumps(list(dimensions)), "join_code": _unused_code(db),
                                      "status": "open", "created_by": created_by, "created_at": now()})
        _log(db, workshop_id, created_by, "workshop.opened", f"dimensions: {', '.join(dimensions)}")
    return workshop_id


def _unused_code(db: sqlite_utils.Database) -> str:
    """A join code no workshop has, inside the caller's write transaction."""
    while True:  # a collision is astronomically rare, but the code must be unique
        code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(CODE_LENGTH))
        if db.execute("SELECT 1 FROM workshops WHERE join_code = ?", [code]).fetchone() is None:
            return code


def _log(db: sqlite_utils.Database, workshop_id: str, by: int | None, action: str, detail: str = "") -> None:
    """An audit entry about the workshop, in its assessment's workspace (inside the change's transaction)."""
    workspace_id, assessment_id = db.execute(
        "SELECT a.workspace_id, a.id FROM workshops w JOIN assessments a ON a.id = w.assessment_id WHERE w.id = ?",
        [workshop_id]).fetchone()
    audit.record(db, workspace_id, by, action, workshop_id, detail, assessment_id=assessment_id)


# Every page of a participant's reads the workshop and the participant: first_row, not query(),
# which adds a savepoint and its release (four statements of an answer submission's twenty).

def get_workshop(db: sqlite_utils.Database, workshop_id: str) -> Workshop | None:
    row = first_row(db, "SELECT * FROM workshops WHERE id = ?", [workshop_id])
    return _from_row(row) if row else None


def by_code(db: sqlite_utils.Database, code: str) -> Workshop | None:
    row = first_row(db, "SELECT * FROM workshops WHERE join_code = ?", [normalize_code(code)])
    return _from_row(row) if row else None


def workshops_of(db: sqlite_utils.Database, assessment_id: str) -> list[Workshop]:
    """The assessment's workshops, newest first."""
    rows = db.query("SELECT * FROM workshops WHERE assessment_id = ? ORDER BY created_at DESC, rowid DESC",
                    [assessment_id])
    return [_from_row(row) for row in rows]


def reveal(db: sqlite_utils.Database, workshop_id: str, *, by: int | None = None) -> bool:
    """Let participants see the distribution of answers, also once closed (it stays closed).

    False when it was revealed already: nothing changed."""
    with write_transaction(db):
        changed = db.execute("UPDATE workshops SET revealed_at = ?, status = CASE status WHEN 'open' "
                             "THEN 'revealed' ELSE status END WHERE id = ? AND revealed_at IS NULL",
                             [now(), workshop_id]).rowcount > 0
        if changed:
            _log(db, workshop_id, by, "workshop.revealed")
    return changed


def close(db: sqlite_utils.Database, workshop_id: str, *, by: int | None = None) -> None:
    """Refuse further answers; everything given so far stays."""
    with write_transaction(db):
        if db.execute("UPDATE workshops SET status = 'closed', closed_at = ? WHERE id = ? AND status != 'closed'",
                      [now(), workshop_id]).rowcount:
            _log(db, workshop_id, by, "workshop.closed")


def stop_joins(db: sqlite_utils.Database, workshop_id: str, stop: bool, *, by: int | None = None) -> None:
    """Stop new joins (``stop``) or let people join again; those who joined go on answering either way."""
    with write_transaction(db):
        if db.execute("UPDATE workshops SET joins_stopped_at = ? WHERE id = ? AND (joins_stopped_at IS NULL) = ?",
                      [now() if stop else None, workshop_id, stop]).rowcount:
            _log(db, workshop_id, by, "workshop.joins_stopped" if stop else "workshop.joins_allowed")


def new_code(db: sqlite_utils.Database, workshop_id: str, *, by: int | None = None) -> None:
    """Give the workshop a new join code: the old one, and its link, stop working (a leaked one)."""
    with write_transaction(db):
        db.execute("UPDATE workshops SET join_code = ? WHERE id = ?", [_unused_code(db), workshop_id])
        _log(db, workshop_id, by, "workshop.code_changed")  # never the code: it lets people in


# Participants --------------------------------------------------------------------------------

def join(db: sqlite_utils.Database, workshop_id: str, display_name: str, *,
         cap: int = MAX_PARTICIPANTS) -> tuple[int, str]:
    """A new participant; returns their id and the token for their cookie (only its hash is kept).
    WorkshopClosed, RoundClosed, JoinsStopped or WorkshopFull (``cap`` participants already), checked
    under the write lock, so that joins sent at once cannot all pass the cap."""
    token = secrets.token_urlsafe(32)
    with write_transaction(db):
        _refuse_closed(db, workshop_id)
        if db.execute("SELECT joins_stopped_at FROM workshops WHERE id = ?", [workshop_id]).fetchone()[0]:
            raise JoinsStopped
        if participant_count(db, workshop_id) >= cap:
            raise WorkshopFull
        participant_id = db.table("participants").insert({
            "workshop_id": workshop_id, "display_name": display_name, "token_hash": hash_token(token),
            "joined_at": now()}).last_pk
    return participant_id, token


def participant_count(db: sqlite_utils.Database, workshop_id: str) -> int:
    """Everyone who joined and was not removed, their personal data deleted or not: what the cap counts."""
    return db.execute("SELECT count(*) FROM participants WHERE workshop_id = ?", [workshop_id]).fetchone()[0]


def participant_for(db: sqlite_utils.Database, workshop_id: str, token: str | None) -> dict | None:
    """The participant holding ``token`` in this workshop, or None; None too from PARTICIPANT_DAYS after
    they joined, however active they are."""
    if not token:
        return None
    return first_row(db, "SELECT id, display_name FROM participants WHERE workshop_id = ? AND token_hash = ? "
                     "AND deleted = 0 AND joined_at > ?",
                     [workshop_id, hash_token(token), later(-24 * PARTICIPANT_DAYS)])


def _refuse_closed(db: sqlite_utils.Database, workshop_id: str) -> None:
    """WorkshopClosed or RoundClosed when the workshop takes no more answers.

    Called under the write lock, so that no answer slips past the workshop's or the round's close."""
    status, assessment_id = db.execute("SELECT status, assessment_id FROM workshops WHERE id = ?",
                                       [workshop_id]).fetchone() or (None, None)
    if status == "closed":
        raise WorkshopClosed
    _refuse_closed_round(db, assessment_id)


def _assessment_of(db: sqlite_utils.Database, workshop_id: str) -> str | None:
    found = db.execute("SELECT assessment_id FROM workshops WHERE id = ?", [workshop_id]).fetchone()
    return found and found[0]


def _refuse_closed_round(db: sqlite_utils.Database, assessment_id: str) -> None:
    closed = portfolios.closed_round(db, assessment_id)
    if closed:
        raise RoundClosed(closed)


def save_participant_answers(db: sqlite_utils.Database, workshop_id: str, participant_id: int,
                             answers: dict[str, str | None]) -> None:
    """Store one participant's answers (None removes one); WorkshopClosed once the workshop is closed."""
    with write_transaction(db):
        _refuse_closed(db, workshop_id)
        db.conn.executemany("DELETE FROM participant_answers WHERE participant_id = ? AND question_id = ?",
                            [(participant_id, q) for q, v in answers.items() if v is None])
        db.conn.executemany(
            "INSERT INTO participant_answers VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            [(participant_id, q, v, now()) for q, v in answers.items() if v is not None])


def participant_answers(db: sqlite_utils.Database, participant_id: int) -> dict[str, str]:
    rows = db.execute("SELECT question_id, value FROM participant_answers WHERE participant_id = ?",
                      [participant_id])
    return dict(rows.fetchall())


def participants(db: sqlite_utils.Database, workshop_id: str) -> list[dict]:
    """Everyone who joined, in order of joining, with how many questions each answered."""
    return list(db.query(
        "SELECT p.id, p.display_name, p.joined_at, p.deleted, count(a.question_id) AS answered "
        "FROM participants p LEFT JOIN participant_answers a ON a.participant_id = p.id "
        "WHERE p.workshop_id = ? GROUP BY p.id ORDER BY p.id", [workshop_id]))


def all_answers(db: sqlite_utils.Database, workshop_id: str) -> dict[str, list[str]]:
    """Every participant's answer value, by question."""
    by_question: dict[str, list[str]] = {}
    for question_id, value in db.execute(
            "SELECT a.question_id, a.value FROM participant_answers a JOIN participants p ON p.id = a.participant_id "
            "WHERE p.workshop_id = ? ORDER BY p.id", [workshop_id]):
        by_question.setdefault(question_id, []).append(value)
    return by_question


def forget_participant(db: sqlite_utils.Database, workshop_id: str, participant_id: int, *,
                       by: int | None = None) -> None:
    """Delete a participant's personal data: name and token go; their answers stay, anonymous."""
    with write_transaction(db):
        if db.execute("UPDATE participants SET display_name = ?, token_hash = NULL, deleted = 1 "
                      "WHERE id = ? AND workshop_id = ? AND deleted = 0",
                      [DELETED_NAME, participant_id, workshop_id]).rowcount:
            # By number only: the log must not keep the name that was just deleted.
            _log(db, workshop_id, by, "participant.forgotten", f"participant {participant_id}")


def remove_participant(db: sqlite_utils.Database, workshop_id: str, participant_id: int, *,
                       by: int | None = None) -> None:
    """Remove a participant and their answers (a test entry, someone counted twice); a recorded consensus stays.
    RoundClosed if they answered and the workshop's assessment is a closed round's: the answers are
    in that round's PDF (deleting their personal data keeps the answers, and stays possible)."""
    with write_transaction(db):
        answers = db.execute("SELECT count(*) FROM participant_answers WHERE participant_id = ?",
                             [participant_id]).fetchone()[0]
        if answers:
            _refuse_closed_round(db, _assessment_of(db, workshop_id))
        # Their answers go with them (ON DELETE CASCADE).
        if db.execute("DELETE FROM participants WHERE id = ? AND workshop_id = ?",
                      [participant_id, workshop_id]).rowcount:
            _log(db, workshop_id, by, "participant.removed", f"participant {participant_id}, {answers} answers")


# Consensus -----------------------------------------------------------------------------------

def set_consensus(db: sqlite_utils.Database, workshop: Workshop, rubric: Rubric, question_id: str, level: int,
                  rationale: str, decided_by: int | None) -> None:
    """Record the agreed level and make it the assessment's answer (which rescores it).

    The answer keeps its basis and evidence note; the consensus line is added to the note, in place of
    this workshop's previous one. RationaleTooLong when the note would outgrow NOTE_MAX.
    """
    if level not in LEVELS or question_id not in {q.id for q in questions_of(rubric, workshop.dimensions)}:
        raise ValueError(f"no consensus on {question_id!r} at level {level!r} in this workshop")
    assessment = records.get_assessment(db, workshop.assessment_id)
    # One transaction: the answer, the consensus and their audit entries stand or fall together.
    with write_transaction(db):
        _refuse_closed_round(db, assessment.id)
        before = db.execute("SELECT level, rationale FROM consensus WHERE workshop_id = ? AND question_id = ?",
                            [workshop.id, question_id]).fetchone()
        stored = records.answers_to(db, assessment.id, [question_id]).get(question_id)
        evidence = _without_line(stored.note if stored else "", before[1] if before else None)
        note = _with_line(evidence, rationale)
        answer = Answer(level, note, stored.basis) if stored else Answer(level, note)
        records.write_answers(db, assessment, rubric, {question_id: answer}, decided_by)
        db.execute("INSERT INTO consensus VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET level = excluded.level, "
                   "rationale = excluded.rationale, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
                   [workshop.id, question_id, level, rationale, decided_by, now()])
        detail = _consensus_change(before, level, rationale)
        if detail:
            _log(db, workshop.id, decided_by, "consensus.recorded", f"{question_id}: {detail}")


def consensus_line(rationale: str) -> str:
    """What a consensus adds to the answer's note."""
    return f"{CONSENSUS_PREFIX}{rationale}" if rationale else CONSENSUS_PREFIX.removesuffix(": ")


def _without_line(note: str, previous: str | None) -> str:
    """The note without this workshop's previous consensus line, if it still ends with it unchanged."""
    line = consensus_line(previous) if previous is not None else None
    if line is None or not note.endswith(line):
        return note
    return note.removesuffix(line).rstrip("\n")


def _with_line(evidence: str, rationale: str) -> str:
    """The evidence note with the consensus line below it; RationaleTooLong when they do not fit."""
    separator = "\n\n" if evidence else ""
    note = f"{evidence}{separator}{consensus_line(rationale)}"
    if len(note) > NOTE_MAX:
        raise RationaleTooLong(max(0, len(rationale) - (len(note) - NOTE_MAX)))
    return note


def _consensus_change(before: tuple[int, str] | None, level: int, rationale: str) -> str:
    """The audit detail of a consensus, '' when it is recorded again unchanged; never the rationale's text."""
    old_level, old_rationale = before or (None, "")
    parts = [f"level {audit.arrow(old_level, level)}"] if old_level != level else []
    return "; ".join(parts + (["rationale changed"] if rationale != old_rationale else []))


def consensus(db: sqlite_utils.Database, workshop_id: str) -> dict[str, dict]:
    """The consensus reached so far, by question."""
    rows = db.query("SELECT question_id, level, rationale, decided_at FROM consensus WHERE workshop_id = ?",
                    [workshop_id])
    return {row["question_id"]: row for row in rows}


# The report's section ------------------------------------------------------------------------

def summary(db: sqlite_utils.Database, assessment_id: str, rubric: Rubric) -> Summary | None:
    """What the report says of the assessment's latest workshop with answers; None when none has any.

    A workshop opened but not yet answered must not hide the one the group worked through."""
    workshop = next((w for w in workshops_of(db, assessment_id) if _answered_by(db, w.id)), None)
    if workshop is None:
        return None
    question_ids = [q.id for q in questions_of(rubric, workshop.dimensions)]
    agreed = {q: (row["level"], row["rationale"]) for q, row in consensus(db, workshop.id).items()}
    return Summary(_answered_by(db, workshop.id), tuple(divergence(question_ids, all_answers(db, workshop.id))),
                   agreed)


def _answered_by(db: sqlite_utils.Database, workshop_id: str) -> int:
    """How many of the workshop's participants answered at least one question."""
    return db.execute("SELECT count(DISTINCT a.participant_id) FROM participant_answers a "
                      "JOIN participants p ON p.id = a.participant_id WHERE p.workshop_id = ?",
                      [workshop_id]).fetchone()[0]
