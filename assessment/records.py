"""Assessments, their answers and their denormalized scores. No Flask here."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import sqlite_utils

from . import audit
from .answers import SCORING_LEVEL, Answer, AnswerSet, kept_for, normalize_value
from .cohorts import Member
from .rubric import Rubric
from .scoring import score
from .storage import now, write_transaction

OVERALL = "_overall"  # the scores row of the whole assessment; no rubric id starts with "_"
EDITABLE = ("title", "organization", "profile", "drivers", "barriers", "targets", "opt_in_benchmark")
_JSON = ("profile", "drivers", "barriers", "targets")
# The audit action a change of each editable field is logged as: the journey page it is on.
FIELD_ACTIONS = {"title": "profile.changed", "organization": "profile.changed", "profile": "profile.changed",
                 "opt_in_benchmark": "profile.changed", "drivers": "drivers.changed",
                 "barriers": "barriers.changed", "targets": "targets.changed"}


@dataclass(frozen=True)
class Assessment:
    id: str
    workspace_id: int
    title: str
    rubric_id: str
    rubric_version: str
    organization: str = ""
    profile: dict = field(default_factory=dict)
    drivers: dict = field(default_factory=dict)
    barriers: list = field(default_factory=list)
    targets: dict = field(default_factory=dict)
    parent_id: str | None = None
    opt_in_benchmark: bool = False
    created_by: int | None = None
    created_at: str = ""
    updated_at: str = ""
    # Replaced by every write to the assessment or its answers; random rather than counted, so
    # that no two contents share one even across a restore from backup.
    content_token: str = ""


_FIELDS = tuple(Assessment.__dataclass_fields__)
_SELECT_ASSESSMENT = f"SELECT {', '.join(_FIELDS)} FROM assessments WHERE id = ?"  # noqa: S608 (field names)
# Many at once: the ids as one JSON array, which no count of them can take past SQLite's limit of variables.
_SELECT_ASSESSMENTS = _SELECT_ASSESSMENT.replace("= ?", "IN (SELECT value FROM json_each(?))")
_JSON_AT = [at for at, name in enumerate(_FIELDS) if name in _JSON]
_OPT_IN_AT = _FIELDS.index("opt_in_benchmark")


def _from_row(row: tuple) -> Assessment:
    """The assessment in a row of _SELECT_ASSESSMENT, with containers of its own (the decoded JSON
    is shared between requests, and a caller may change what it was given)."""
    values = list(row)
    for at, decoded in zip(_JSON_AT, _decoded_json(*(row[at] for at in _JSON_AT)), strict=True):
        values[at] = decoded.copy()  # lists and dicts of strings and numbers: a shallow copy is enough
    values[_OPT_IN_AT] = bool(values[_OPT_IN_AT])
    return Assessment(*values)


@lru_cache(maxsize=1024)
def _decoded_json(*texts: str) -> tuple:
    """Decoding an assessment's four JSON columns was a third of reading it, which every page does."""
    return tuple(json.loads(text) for text in texts)


def content_token() -> str:
    return secrets.token_hex(8)


def get_assessment(db: sqlite_utils.Database, assessment_id: str) -> Assessment | None:
    row = db.execute(_SELECT_ASSESSMENT, [assessment_id]).fetchone()
    return _from_row(row) if row else None


def answer_set(db: sqlite_utils.Database, assessment: Assessment) -> AnswerSet:
    """Everything the assessment says, as the scoring engine and the exports take it."""
    answers = _answers(db, "SELECT question_id, value, note, basis FROM answers WHERE assessment_id = ?",
                       [assessment.id])
    return _with_answers(assessment, answers)


def answer_sets(db: sqlite_utils.Database, assessment_ids: list[str]) -> dict[str, AnswerSet]:
    """``answer_set`` of many assessments in two queries, by id (a portfolio round has hundreds);
    an id no assessment has is left out."""
    ids = json.dumps(assessment_ids)
    answers: dict[str, dict[str, Answer]] = {}
    for assessment_id, qid, value, note, basis in db.execute(
            "SELECT assessment_id, question_id, value, note, basis FROM answers "
            "WHERE assessment_id IN (SELECT value FROM json_each(?))", [ids]):
        answers.setdefault(assessment_id, {})[qid] = Answer(_stored_value(value), note, basis)
    assessments = map(_from_row, db.execute(_SELECT_ASSESSMENTS, [ids]))
    return {a.id: _with_answers(a, answers.get(a.id, {})) for a in assessments}


def _with_answers(assessment: Assessment, answers: dict[str, Answer]) -> AnswerSet:
    return AnswerSet(answers=answers, rubric=assessment.rubric_id, rubric_version=assessment.rubric_version,
                     title=assessment.title, organization=assessment.organization, profile=assessment.profile,
                     drivers=assessment.drivers, barriers=tuple(assessment.barriers), targets=assessment.targets)


def answers_to(db: sqlite_utils.Database, assessment_id: str, question_ids: list[str]) -> dict[str, Answer]:
    """The assessment's answers to these questions only: a dimension page's, without the rest."""
    marks = ", ".join("?" * len(question_ids))
    return _answers(db, "SELECT question_id, value, note, basis FROM answers "  # noqa: S608 (placeholders only)
                    f"WHERE assessment_id = ? AND question_id IN ({marks})", [assessment_id, *question_ids])


def _answers(db: sqlite_utils.Database, sql: str, params: list) -> dict[str, Answer]:
    return {qid: Answer(_stored_value(value), note, basis) for qid, value, note, basis in db.execute(sql, params)}


# What the answers table holds: each valid value as ``str()`` writes it ("3", "dont_know").
_STORED_VALUES = {str(value): value for value in SCORING_LEVEL}


def _stored_value(text: str) -> int | str:
    """A stored answer's value. Every save reads the assessment's answers, and taking each through
    normalize_value's spellings was 3% of an answer submission; anything else stored still is."""
    return _STORED_VALUES[text] if text in _STORED_VALUES else normalize_value(text)


def _refresh_scores(db: sqlite_utils.Database, assessment: Assessment, rubric: Rubric,
                    answers: AnswerSet | None = None) -> None:
    """Rewrite the assessment's rows in ``scores``; called inside every saving transaction with the
    answers as now stored (read back when not given)."""
    result = score(rubric, answers or answer_set(db, assessment), gaps=False)
    answered = sum(d.answered for d in result.dimensions)
    total = len(rubric.questions)
    rows = [(d.id, d.score, d.completeness, d.answered, d.total, None, None) for d in result.dimensions]
    summary = json.dumps({d.id: d.score for d in result.dimensions})
    rows.append((OVERALL, result.overall, answered / total, answered, total, result.stage, summary))
    marks = ", ".join("?" * len(rows))
    db.execute(f"DELETE FROM scores WHERE assessment_id = ? AND dimension NOT IN ({marks})",  # noqa: S608 (placeholders only)
               [assessment.id, *(row[0] for row in rows)])
    db.conn.executemany(_SCORES_UPSERT, [(assessment.id, row[0], rubric.id, rubric.version, *row[1:]) for row in rows])


# Rows whose figures are unchanged are left alone: a save changes one dimension's score at most,
# and rewriting all ten rows rewrote the cohort index and fired the cohorts token's trigger
# twenty times, for pages of the write-ahead log that each commit must sync.
_SCORES_UPSERT = """
INSERT INTO scores (assessment_id, dimension, rubric_id, rubric_version, score, completeness, answered, total, stage,
                    dimensions)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (assessment_id, dimension) DO UPDATE SET
    rubric_id = excluded.rubric_id, rubric_version = excluded.rubric_version, score = excluded.score,
    completeness = excluded.completeness, answered = excluded.answered, total = excluded.total,
    stage = excluded.stage, dimensions = excluded.dimensions
WHERE (scores.rubric_id, scores.rubric_version, scores.score, scores.completeness, scores.answered, scores.total,
       scores.stage, scores.dimensions)
      IS NOT (excluded.rubric_id, excluded.rubric_version, excluded.score, excluded.completeness, excluded.answered,
              excluded.total, excluded.stage, excluded.dimensions)
"""


def _insert_answers(db: sqlite_utils.Database, assessment_id: str, answers: dict[str, Answer]) -> None:
    db.conn.executemany(
        "INSERT INTO answers (assessment_id, question_id, value, note, basis, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO UPDATE SET value = excluded.value, note = excluded.note, basis = excluded.basis, "
        "updated_at = excluded.updated_at",
        [(assessment_id, qid, str(a.value), a.note, a.basis, now()) for qid, a in answers.items()])


def create_assessment(db: sqlite_utils.Database, workspace_id: int, rubric: Rubric, title: str,
                      answers: AnswerSet | None = None, *, action: str = "assessment.created", detail: str = "",
                      **fields) -> str:
    """A new assessment (optionally with answers, as for an import or a new round); returns its id.

    ``action`` and ``detail`` are what the audit log says of it (an import names its file).
    """
    with write_transaction(db):
        return insert_assessment(db, workspace_id, rubric, title, answers, action=action, detail=detail, **fields)


def create_titled_assessment(db: sqlite_utils.Database, workspace_id: int, rubric: Rubric,
                             choose_title: Callable[[set[str]], str], answers: AnswerSet | None = None,
                             **fields) -> tuple[str, str]:
    """``create_assessment`` with the title ``choose_title`` picks from those the workspace has;
    returns the id and the title. The titles are read under the write lock: read before it, imports
    at once all saw the same titles taken and took the same one."""
    with write_transaction(db):
        title = choose_title({a["title"] for a in assessments_in(db, workspace_id)})
        return insert_assessment(db, workspace_id, rubric, title, answers, **fields), title


def insert_assessment(db: sqlite_utils.Database, workspace_id: int, rubric: Rubric, title: str,
                      answers: AnswerSet | None = None, *, action: str = "assessment.created", detail: str = "",
                      **fields) -> str:
    """``create_assessment`` inside the caller's write transaction."""
    given = answers or AnswerSet(answers={})
    values = {"organization": given.organization, "profile": dict(given.profile), "drivers": dict(given.drivers),
              "barriers": list(given.barriers), "targets": dict(given.targets), **fields}
    assessment = Assessment(id=secrets.token_urlsafe(16), workspace_id=workspace_id, title=title,
                            rubric_id=rubric.id, rubric_version=rubric.version, created_at=now(),
                            updated_at=now(), content_token=content_token(), **values)
    row = {name: getattr(assessment, name) for name in Assessment.__dataclass_fields__}
    row.update({name: json.dumps(row[name]) for name in _JSON})
    db.table("assessments").insert(row)
    _insert_answers(db, assessment.id, dict(given.answers))
    _refresh_scores(db, assessment, rubric)
    detail = "; ".join(filter(None, [detail, f"{len(given.answers)} answers" if given.answers else ""]))
    audit.record(db, workspace_id, fields.get("created_by"), action, title, detail, assessment_id=assessment.id)
    return assessment.id


def update_assessment(db: sqlite_utils.Database, assessment: Assessment, rubric: Rubric, *, by: int | None = None,
                      **fields) -> None:
    """Change the assessment's own fields (title, profile, drivers, barriers...) and rescore; ``by`` whom."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with write_transaction(db):
        _write_fields(db, get_assessment(db, assessment.id), rubric, fields, by)  # read under the write lock


def _write_fields(db: sqlite_utils.Database, before: Assessment, rubric: Rubric, fields: dict, by: int | None) -> None:
    """``update_assessment`` inside the caller's write transaction; ``before`` as stored, for the audit log.

    Fields saved unchanged write nothing, as answers do (``write_answers``): the assessment keeps
    its content token and its "updated" time, which the dashboard sorts by and the PDF is dated by.
    """
    changes = field_changes(before, fields)
    if not changes:
        return
    stored = {name: json.dumps(value) if name in _JSON else value for name, value in fields.items()}
    assignments = ", ".join(f"{name} = ?" for name in stored)
    db.execute(f"UPDATE assessments SET {assignments}, updated_at = ?, content_token = ? WHERE id = ?",  # noqa: S608 (names from EDITABLE)
               [*stored.values(), now(), content_token(), before.id])
    _refresh_scores(db, get_assessment(db, before.id), rubric)
    for action, parts in changes.items():
        audit.record(db, before.workspace_id, by, action, "", "; ".join(parts), assessment_id=before.id)


def field_changes(before: Assessment, fields: dict) -> dict[str, list[str]]:
    """What changed in the assessment's own fields, by audit action; fields saved unchanged are left out."""
    changes: dict[str, list[str]] = {}
    for name, new in fields.items():
        old = getattr(before, name)
        new = json.loads(json.dumps(new)) if name in _JSON else new  # compared as it will be read back
        if isinstance(old, dict):
            parts = audit.dict_changes(old, new)
        elif isinstance(old, list):
            parts = audit.list_changes(old, new)  # the same barriers in another order are no change
        else:
            parts = [f"{name}: {audit.arrow(old, new)}"] if old != new else []
        if parts:
            changes.setdefault(FIELD_ACTIONS[name], []).extend(parts)
    return changes


def save_answers(db: sqlite_utils.Database, assessment: Assessment, rubric: Rubric,
                 answers: dict[str, Answer | None], *, targets: dict[str, int | None] | None = None,
                 by: int | None = None) -> None:
    """Store answers (None removes one: the question becomes unanswered) and the organization's own
    targets for questions (None: back to the rubric's), and rescore, atomically."""
    unknown = (answers.keys() | (targets or {}).keys()) - rubric.questions.keys()
    if unknown:
        raise ValueError(f"unknown question {min(unknown)!r}")
    with write_transaction(db):
        write_answers(db, assessment, rubric, answers, by)
        if targets:
            before = get_assessment(db, assessment.id)
            merged = {qid: level for qid, level in {**before.targets, **targets}.items() if level is not None}
            if merged != before.targets:
                _write_fields(db, before, rubric, {"targets": merged}, by)


def write_answers(db: sqlite_utils.Database, assessment: Assessment, rubric: Rubric,
                  answers: dict[str, Answer | None], by: int | None) -> None:
    """``save_answers`` inside the caller's write transaction; each changed answer is logged.

    Only answers that differ from the stored ones are written. A page saved unchanged (moving on
    with Next) writes nothing: the assessment keeps its content token, so its cached pages and
    results stay valid, and its "updated" time, which the dashboard sorts by.
    """
    stored = answer_set(db, assessment)
    answers = {qid: answer for qid, answer in answers.items() if stored.answers.get(qid) != answer}
    if not answers:
        return
    removed = [(assessment.id, qid) for qid, answer in answers.items() if answer is None]
    db.conn.executemany("DELETE FROM answers WHERE assessment_id = ? AND question_id = ?", removed)
    given = {q: a for q, a in answers.items() if a is not None}
    _insert_answers(db, assessment.id, given)
    db.execute("UPDATE assessments SET updated_at = ?, content_token = ? WHERE id = ?",
               [now(), content_token(), assessment.id])
    kept = {q: a for q, a in stored.answers.items() if q not in answers}
    _refresh_scores(db, assessment, rubric, replace(stored, answers={**kept, **given}))
    for qid, answer in answers.items():
        detail = answer_change(stored.answers.get(qid), answer)
        if detail:
            audit.record(db, assessment.workspace_id, by, "answer.changed", qid, detail, assessment_id=assessment.id)


def answer_change(old: Answer | None, new: Answer | None) -> str:
    """How an answer changed, '' if it did not: the level, the basis, and only whether the note changed."""
    parts = []
    old_value, new_value = (old.value if old else None), (new.value if new else None)  # None: unanswered
    if old_value != new_value:
        parts.append(audit.arrow(old_value, new_value))
    if old and new and old.basis != new.basis:
        parts.append(f"basis: {audit.arrow(old.basis, new.basis)}")
    if (old.note if old else "") != (new.note if new else ""):
        parts.append("note changed")  # never its text: evidence notes may be confidential
    return "; ".join(parts)


def start_round(db: sqlite_utils.Database, parent: Assessment, rubric: Rubric, title: str,
                created_by: int | None) -> str:
    """A new round of an assessment on ``rubric``: the parent's version or another of the same rubric.
    Its answers are copied, but for what ``rubric`` does not ask, which stays with the parent."""
    with write_transaction(db):
        return insert_round(db, parent, rubric, title, created_by)


def insert_round(db: sqlite_utils.Database, parent: Assessment, rubric: Rubric, title: str,
                 created_by: int | None) -> str:
    """``start_round`` inside the caller's write transaction."""
    if rubric.id != parent.rubric_id:
        raise ValueError(f"a round of a {parent.rubric_id} assessment cannot be on rubric {rubric.id}")
    moved = f"; rubric {parent.rubric_version} → {rubric.version}" if rubric.version != parent.rubric_version else ""
    return insert_assessment(db, parent.workspace_id, rubric, title, answers=kept_for(answer_set(db, parent), rubric),
                             action="round.started", detail=f"continues {parent.title}{moved}", parent_id=parent.id,
                             opt_in_benchmark=parent.opt_in_benchmark, created_by=created_by)


def assessments_in(db: sqlite_utils.Database, workspace_id: int) -> list[dict]:
    """The workspace's assessments, most recently updated first, with progress, index and stage."""
    return list(db.query(
        "SELECT assessments.id, title, organization, assessments.rubric_id, assessments.rubric_version, parent_id, "
        "updated_at, scores.score AS overall, scores.stage, scores.answered, scores.total "
        "FROM assessments LEFT JOIN scores ON scores.assessment_id = assessments.id AND scores.dimension = ? "
        "WHERE workspace_id = ? ORDER BY updated_at DESC, title", [OVERALL, workspace_id]))


def progress(db: sqlite_utils.Database, assessment_id: str) -> tuple[int, int]:
    """(answered, total) questions, from the scores row refreshed on every save."""
    row = db.execute("SELECT answered, total FROM scores WHERE assessment_id = ? AND dimension = ?",
                     [assessment_id, OVERALL]).fetchone()
    return tuple(row) if row else (0, 0)


def progress_by_dimension(db: sqlite_utils.Database, assessment_id: str) -> dict[str, tuple[int, int]]:
    """(answered, total) questions per dimension id, and the whole assessment's under ``OVERALL``."""
    return {dimension: (answered, total) for dimension, answered, total in db.execute(
        "SELECT dimension, answered, total FROM scores WHERE assessment_id = ?", [assessment_id]).fetchall()}


def delete_assessment(db: sqlite_utils.Database, assessment_id: str, *, by: int | None = None) -> None:
    """Delete an assessment with its answers and scores; later rounds keep theirs, the audit log its history."""
    with write_transaction(db):
        found = db.execute("SELECT workspace_id, title FROM assessments WHERE id = ?", [assessment_id]).fetchone()
        db.execute("DELETE FROM assessments WHERE id = ?", [assessment_id])
        if found:
            audit.record(db, found[0], by, "assessment.deleted", found[1], assessment_id=assessment_id)


# Cohorts: one member per organization, its latest scored assessment on one rubric version,
# read from the '_overall' rows (which carry the dimension scores) through the cohort index.
# Newest first, so the first row of each organization is its latest; deduplicating in Python
# is several times faster than a window function over 10,000 rows (bench/cohorts.py).
_COHORT_SQL = """
SELECT {key}, a.workspace_id, json_extract(a.profile, '$.region'), json_extract(a.profile, '$.org_type'),
       json_extract(a.profile, '$.size'), o.score, o.dimensions
FROM scores o JOIN assessments a ON a.id = o.assessment_id
WHERE o.rubric_id = ? AND o.rubric_version = ? AND o.dimension = '_overall' AND o.score IS NOT NULL
  AND {scope}
ORDER BY a.updated_at DESC, a.rowid DESC
"""
# Within a workspace an organization is its name (or the assessment, if unnamed); across the
# instance the workspace is part of the key, so that two clients called "Ministry" stay apart.
_WORKSPACE_KEY = "COALESCE(NULLIF(LOWER(TRIM(a.organization)), ''), a.id)"
_INSTANCE_KEY = f"a.workspace_id || ':' || {_WORKSPACE_KEY}"


def cohorts_token(db: sqlite_utils.Database) -> str:
    """A token that every change to any assessment or its scores replaces (storage.py's triggers):
    what pages showing the live cohorts are cached by."""
    return db.execute("SELECT token FROM change_tokens WHERE name = 'cohorts'").fetchone()[0]


def cohort_key(db: sqlite_utils.Database, assessment_id: str, instance: bool) -> str:
    """The organization key ``cohort_members`` gives this assessment (computed by the same SQL)."""
    key = _INSTANCE_KEY if instance else _WORKSPACE_KEY  # constants, never user input
    return db.execute(f"SELECT {key} FROM assessments a WHERE a.id = ?", [assessment_id]).fetchone()[0]  # noqa: S608


def cohort_members(db: sqlite_utils.Database, rubric_id: str, version: str,
                   workspace_id: int | None = None) -> list[Member]:
    """The members of a workspace's cohort, or of the instance's (only assessments opted in)."""
    if workspace_id is None:
        sql, params = _COHORT_SQL.format(key=_INSTANCE_KEY, scope="a.opt_in_benchmark = 1"), []
    else:
        sql, params = _COHORT_SQL.format(key=_WORKSPACE_KEY, scope="a.workspace_id = ?"), [workspace_id]
    latest = {}
    for org, *row in db.execute(sql, [rubric_id, version, *params]):
        latest.setdefault(org, row)
    return [Member(org, overall, json.loads(dimensions), _profile(region, org_type, size), workspace)
            for org, (workspace, region, org_type, size, overall, dimensions) in latest.items()]


def _profile(region: str | None, org_type: str | None, size: str | None) -> dict[str, str]:
    return {k: v for k, v in (("region", region), ("org_type", org_type), ("size", size)) if v is not None}
