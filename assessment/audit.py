"""The audit log: who changed which answer, consensus or setting, and when. No Flask here.

The repository function that makes a change writes its entry (``record``) inside the same write
transaction, so a change and its entry are committed, or rolled back, together. Only real changes
are recorded: each caller compares with what was stored before. Entries name levels, roles and
fields, never passwords, tokens, evidence notes or rationales (only that they changed).
Entries are kept until their workspace is deleted; instance-wide ones (workspace NULL) for ever.
"""

from __future__ import annotations

import sqlite_utils

from .storage import now

PAGE_SIZE = 100
SYSTEM = "system"  # the actor of changes made without an account: the command line, start-up
NOTHING = "—"  # an answer, field or role that was not there


def actor_of(db: sqlite_utils.Database, user_id: int | None) -> str:
    """How an entry names a user: name and email as they are now, so it outlives the account."""
    if user_id is None:
        return SYSTEM
    row = db.execute("SELECT name, email FROM users WHERE id = ?", [user_id]).fetchone()
    return f"{row[0]} <{row[1]}>" if row else f"user {user_id}"


def record(db: sqlite_utils.Database, workspace_id: int | None, user_id: int | None, action: str,
           subject: str = "", detail: str = "", *, assessment_id: str | None = None, actor: str | None = None) -> None:
    """Append an entry (actor: the user's name and email unless given); inside the change's transaction."""
    if not db.conn.in_transaction:  # an entry written apart from its change could outlive a rollback
        raise RuntimeError("audit.record belongs inside the write transaction of the change it records")
    db.execute("INSERT INTO audit (at, workspace_id, user_id, actor, action, assessment_id, subject, detail) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [now(), workspace_id, user_id, actor or actor_of(db, user_id), action, assessment_id, subject, detail])


def _scope(workspace_id: int | None, assessment_id: str | None) -> tuple[str, list]:
    # IS, not =: workspace None selects the instance-wide entries.
    where, params = "audit.workspace_id IS ?", [workspace_id]
    if assessment_id:
        where, params = where + " AND audit.assessment_id = ?", [*params, assessment_id]
    return where, params


_SELECT = ("SELECT audit.*, assessments.title, assessments.rubric_id, assessments.rubric_version FROM audit "
           "LEFT JOIN assessments ON assessments.id = audit.assessment_id")


def entries(db: sqlite_utils.Database, workspace_id: int | None, assessment_id: str | None = None,
            offset: int = 0, limit: int | None = PAGE_SIZE) -> list[dict]:
    """Entries newest first, each with its assessment's title and rubric (None once deleted); limit None: all."""
    where, params = _scope(workspace_id, assessment_id)
    sql = f"{_SELECT} WHERE {where} ORDER BY audit.at DESC, audit.id DESC LIMIT ? OFFSET ?"  # noqa: S608 (constant)
    return list(db.query(sql, [*params, -1 if limit is None else limit, offset]))


def count(db: sqlite_utils.Database, workspace_id: int | None, assessment_id: str | None = None) -> int:
    where, params = _scope(workspace_id, assessment_id)
    return db.execute(f"SELECT count(*) FROM audit WHERE {where}", params).fetchone()[0]  # noqa: S608


def assessments_logged(db: sqlite_utils.Database, workspace_id: int) -> list[dict]:
    """The assessments the workspace's entries name, deleted ones too (title None), for the filter."""
    return list(db.query(
        "SELECT DISTINCT audit.assessment_id AS id, assessments.title FROM audit "
        "LEFT JOIN assessments ON assessments.id = audit.assessment_id "
        "WHERE audit.workspace_id = ? AND audit.assessment_id IS NOT NULL ORDER BY assessments.title IS NULL, "
        "assessments.title", [workspace_id]))


# Describing a change -----------------------------------------------------------------------

def shown(value) -> str:
    return NOTHING if value is None or value == "" else str(value)


def arrow(old, new) -> str:
    """'old → new', with a dash for nothing."""
    return f"{shown(old)} → {shown(new)}"


def dict_changes(old: dict, new: dict) -> list[str]:
    """'key: old → new' for every key whose value differs, in key order."""
    return [f"{key}: {arrow(old.get(key), new.get(key))}" for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)]


def list_changes(old: list, new: list) -> list[str]:
    """What was added to and removed from a list (of barriers, say)."""
    added, removed = [x for x in new if x not in old], [x for x in old if x not in new]
    return ([f"added {', '.join(map(str, added))}"] if added else []) + \
        ([f"removed {', '.join(map(str, removed))}"] if removed else [])


# Reading an entry ---------------------------------------------------------------------------

# What the log page shows for each action; the ids stay in the entries, the CSV export and the
# page's title attributes.
ACTIONS = {
    "answer.changed": "Answer changed", "targets.changed": "Targets changed",
    "profile.changed": "Organization page changed", "drivers.changed": "Drivers changed",
    "barriers.changed": "Barriers changed", "assessment.created": "Assessment created",
    "assessment.imported": "Assessment imported", "assessment.deleted": "Assessment deleted",
    "round.started": "New round started", "consensus.recorded": "Workshop consensus recorded",
    "workshop.opened": "Workshop opened", "workshop.revealed": "Workshop answers revealed",
    "workshop.closed": "Workshop closed", "workshop.joins_stopped": "Workshop's new joins stopped",
    "workshop.joins_allowed": "Workshop open to new joins again",
    "workshop.code_changed": "Workshop's join code changed",
    "participant.removed": "Workshop participant and answers removed",
    "workspace.created": "Workspace created", "workspace.deleted": "Workspace deleted",
    "member.role": "Member's role changed", "member.removed": "Member removed",
    "invite.created": "Invitation created", "invite.accepted": "Invitation accepted",
    "invite.revoked": "Invitation revoked", "invite.accounts_closed": "Invitation closed to new accounts",
    "portfolio.created": "Portfolio created",
    "portfolio.round_opened": "Portfolio round opened", "agency.invited": "Agency invited",
    "agency.link_renewed": "Agency sent a new link", "agency.accounts_closed": "Agency's link closed to new accounts",
    "rubric.uploaded": "Rubric uploaded", "user.disabled": "Account disabled", "user.enabled": "Account enabled",
    "user.password_changed": "Password changed", "workspace.owner_appointed": "Owner appointed by an administrator",
}


def action_label(action: str) -> str:
    """An action as words: 'answer.changed' is 'Answer changed'; one not listed is spelled out."""
    return ACTIONS.get(action) or action.replace(".", " ").replace("_", " ").capitalize()


def with_question_titles(detail: str, titles: dict[str, str]) -> str:
    """A detail's 'question id: change' parts (consensus, targets) with the question's title instead."""
    def part(text: str) -> str:
        key, sep, rest = text.partition(": ")
        return f"{titles[key]}: {rest}" if sep and key in titles else text
    return "; ".join(part(p) for p in detail.split("; ")) if detail else detail
