"""Users, server-side sessions, workspaces, memberships and invites. No Flask here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from . import audit
from .storage import first_row, hash_token, later, now, random_id, write_transaction

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
GUESS_CHECK_LENGTH = 72  # zxcvbn refuses longer input
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is "safely unguessable" for an online attack with rate limits
# An email's local part this long may not be in the password; shorter ones ("jo", "ada") are
# inside too many unrelated passwords (zxcvbn still weighs them).
MIN_LOCAL_PART = 4
ROLES = ("owner", "editor", "viewer")
# Who may do what in a workspace; each role can do everything the roles after it can.
CAN_WRITE = {"owner", "editor"}
CAN_MANAGE = {"owner"}
# Checked against when the email is unknown, so a failed log-in takes as long either way.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


def password_problem(password: str, personal: Iterable[str | None] = ()) -> str | None:
    """Why a new password is refused, or None. ``personal``: the account's email, name and
    workspace names, which anyone who knows the person would try first."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    personal = [text.strip().lower() for text in personal if text and text.strip()]
    local_parts = [text.split("@")[0] for text in personal if "@" in text]
    if any(len(local) >= MIN_LOCAL_PART and local in password.lower() for local in local_parts):
        return "Leave your email address out of your password."
    # zxcvbn knows the common and breached passwords, keyboard walks, repeats and dates that a
    # length rule lets through ("password1234"); its time grows with length, hence the slice.
    verdict = zxcvbn(password[:GUESS_CHECK_LENGTH], user_inputs=personal + local_parts)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        warning = verdict["feedback"]["warning"] or "This password is easy to guess."
        return f"{warning.rstrip('.')}. Choose a longer or less common password, such as a few unrelated words."
    return None


def personal_details(db: sqlite_utils.Database, user_id: int) -> list[str]:
    """What ``password_problem`` keeps out of a user's new password: email, name, workspace names."""
    user = get_user(db, user_id)
    names = [row[0] for row in db.execute("SELECT workspaces.name FROM workspaces JOIN memberships ON "
                                          "memberships.workspace_id = workspaces.id WHERE user_id = ?", [user_id])]
    return [user["email"], user["name"], *names]


# Users -------------------------------------------------------------------------------------

class EmailTaken(ValueError):
    """Another account has this email address."""


def has_users(db: sqlite_utils.Database) -> bool:
    return db.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0] == 1


def insert_user(db: sqlite_utils.Database, email: str, name: str, password: str, is_admin: bool,
                workspace: str = "") -> int:
    """Insert a user (who joins ``workspace``) inside the caller's write transaction; ValueError
    for a weak password."""
    problem = password_problem(password, [email, name, workspace])
    if problem:
        raise ValueError(problem)
    if get_user_by_email(db, email):
        raise EmailTaken("An account with this email address already exists.")
    return db.execute(
        "INSERT INTO users (email, name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
        [email.strip(), name.strip(), generate_password_hash(password, method="scrypt"), int(is_admin), now()],
    ).lastrowid


def create_user(db: sqlite_utils.Database, email: str, name: str, password: str, is_admin: bool = False) -> int:
    """Add a user; ValueError if the password is too short or the email is taken."""
    with write_transaction(db):
        return insert_user(db, email, name, password, is_admin)


def create_first_admin(db: sqlite_utils.Database, email: str, name: str, password: str,
                       workspace: str) -> tuple[int, int]:
    """The first account, an administrator, with its workspace; ValueError once any account exists."""
    with write_transaction(db):
        if has_users(db):
            raise ValueError("The first account already exists.")
        user_id = insert_user(db, email, name, password, True, workspace)
        return user_id, insert_workspace(db, workspace, user_id)


def get_user(db: sqlite_utils.Database, user_id: int) -> dict | None:
    return next(db.query("SELECT * FROM users WHERE id = ?", [user_id]), None)


def get_user_by_email(db: sqlite_utils.Database, email: str) -> dict | None:
    return next(db.query("SELECT * FROM users WHERE email = ?", [email.strip()]), None)


def authenticate(db: sqlite_utils.Database, email: str, password: str) -> dict | None:
    """The enabled user with this email and password, or None."""
    user = get_user_by_email(db, email)
    if not check_password_hash(user["password_hash"] if user else _DUMMY_HASH, password):
        return None
    return user if not user["disabled"] else None


def set_password(db: sqlite_utils.Database, user_id: int, password: str, *, by: int | None = None) -> None:
    """Change a password and end every session of the user: a changed password locks out old ones.
    Logged instance-wide, as disabling is; ``by`` None is the command line."""
    problem = password_problem(password, personal_details(db, user_id))
    if problem:
        raise ValueError(problem)
    with write_transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                   [generate_password_hash(password, method="scrypt"), user_id])
        db.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
        audit.record(db, None, by, "user.password_changed", f"user {user_id}", audit.actor_of(db, user_id))


def set_disabled(db: sqlite_utils.Database, user_id: int, disabled: bool, *, by: int | None = None) -> None:
    """Disable or enable an account; disabling ends its sessions and withdraws its invitations.
    Logged instance-wide, for administrators."""
    with write_transaction(db):
        if db.execute("UPDATE users SET disabled = ? WHERE id = ? AND disabled != ?",
                      [int(disabled), user_id, int(disabled)]).rowcount:
            action = "user.disabled" if disabled else "user.enabled"
            audit.record(db, None, by, action, f"user {user_id}", audit.actor_of(db, user_id))
        if disabled:
            db.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
            _withdraw_invites_of(db, user_id, None, by)


def list_users(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT id, email, name, is_admin, disabled, created_at FROM users ORDER BY email"))


# Sessions ----------------------------------------------------------------------------------

def start_session(db: sqlite_utils.Database, user_id: int, hours: float) -> str:
    """Record a new session and return its token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    with write_transaction(db):
        db.execute("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                   [hash_token(token), user_id, now(), later(hours)])
    return token


def session_user(db: sqlite_utils.Database, token: str | None) -> dict | None:
    """The enabled user of a live session, or None for a missing, ended or expired one."""
    if not token:
        return None
    return first_row(
        db, "SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id "
        "WHERE sessions.id = ? AND sessions.expires_at > ? AND NOT users.disabled",
        [hash_token(token), now()])


def end_session(db: sqlite_utils.Database, token: str) -> None:
    with write_transaction(db):
        db.execute("DELETE FROM sessions WHERE id = ? OR expires_at <= ?", [hash_token(token), now()])


# Workspaces and memberships ----------------------------------------------------------------

def insert_workspace(db: sqlite_utils.Database, name: str, owner_id: int) -> int:
    """Insert a workspace owned by ``owner_id`` inside the caller's write transaction."""
    workspace_id = random_id()
    db.execute("INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)", [workspace_id, name.strip(), now()])
    db.execute("INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, 'owner')", [workspace_id, owner_id])
    audit.record(db, workspace_id, owner_id, "workspace.created", name.strip())
    return workspace_id


def create_workspace(db: sqlite_utils.Database, name: str, owner_id: int) -> int:
    """A new workspace with its creator as owner."""
    with write_transaction(db):
        return insert_workspace(db, name, owner_id)


def workspaces_for(db: sqlite_utils.Database, user_id: int) -> list[dict]:
    """The user's workspaces with their role and number of assessments, by name."""
    return list(db.query(
        "SELECT workspaces.*, memberships.role, "
        "(SELECT count(*) FROM assessments WHERE workspace_id = workspaces.id) AS assessments "
        "FROM workspaces JOIN memberships ON memberships.workspace_id = workspaces.id "
        "WHERE memberships.user_id = ? ORDER BY workspaces.name", [user_id]))


def workspace_ids(db: sqlite_utils.Database, user_id: int) -> set[int]:
    """The ids of the user's workspaces, whatever the role."""
    return {row[0] for row in db.execute("SELECT workspace_id FROM memberships WHERE user_id = ?", [user_id])}


def membership(db: sqlite_utils.Database, workspace_id: int, user_id: int) -> dict | None:
    """The workspace with the user's role in it, or None when the user is not a member."""
    return first_row(
        db, "SELECT workspaces.*, memberships.role FROM workspaces "
        "JOIN memberships ON memberships.workspace_id = workspaces.id "
        "WHERE workspaces.id = ? AND memberships.user_id = ?", [workspace_id, user_id])


def get_workspace(db: sqlite_utils.Database, workspace_id: int) -> dict | None:
    return first_row(db, "SELECT * FROM workspaces WHERE id = ?", [workspace_id])


def members(db: sqlite_utils.Database, workspace_id: int) -> list[dict]:
    return list(db.query(
        "SELECT users.id, users.email, users.name, users.disabled, memberships.role FROM memberships "
        "JOIN users ON users.id = memberships.user_id WHERE memberships.workspace_id = ? "
        "ORDER BY users.name", [workspace_id]))


def _role(db: sqlite_utils.Database, workspace_id: int, user_id: int) -> str | None:
    row = db.execute("SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
                     [workspace_id, user_id]).fetchone()
    return row[0] if row else None


def ownerless_workspaces(db: sqlite_utils.Database, without: int | None = None) -> list[dict]:
    """The workspaces that no enabled owner can manage; with ``without``, those of this user's
    that would be so without the user (removed, demoted or disabled)."""
    # A disabled owner cannot log in to manage anything, so only enabled ones count. With a user,
    # only the user's own workspaces are looked at: "(:user IS NULL OR ...)" made SQLite check every
    # workspace of the instance (a thousand agencies' among them) on each members page.
    among = "" if without is None else \
        "AND workspaces.id IN (SELECT workspace_id FROM memberships WHERE user_id = :user AND role = 'owner') "
    return list(db.query(
        "SELECT workspaces.id, workspaces.name FROM workspaces WHERE NOT EXISTS (SELECT 1 FROM memberships "  # noqa: S608 (no input in it)
        "JOIN users ON users.id = memberships.user_id WHERE memberships.workspace_id = workspaces.id "
        f"AND role = 'owner' AND NOT users.disabled AND users.id IS NOT :user) {among}ORDER BY workspaces.name",
        {"user": without}))


def is_last_owner(db: sqlite_utils.Database, workspace_id: int, user_id: int) -> bool:
    """Whether the user is the workspace's only enabled owner (or an owner where none is enabled)."""
    return any(workspace["id"] == workspace_id for workspace in ownerless_workspaces(db, without=user_id))


def _check_not_last_owner(db: sqlite_utils.Database, workspace_id: int, user_id: int) -> None:
    if is_last_owner(db, workspace_id, user_id):
        raise ValueError("A workspace needs at least one owner with an enabled account.")


def set_role(db: sqlite_utils.Database, workspace_id: int, user_id: int, role: str, *, by: int | None = None) -> None:
    """Change a member's role; ValueError if that would leave the workspace without an owner.
    A member who is no longer an owner loses the invitations they created there."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}.")
    with write_transaction(db):
        if role != "owner":
            _check_not_last_owner(db, workspace_id, user_id)
            _withdraw_invites_of(db, user_id, workspace_id, by)
        old = _role(db, workspace_id, user_id)
        if old not in (None, role):
            db.execute("UPDATE memberships SET role = ? WHERE workspace_id = ? AND user_id = ?",
                       [role, workspace_id, user_id])
            audit.record(db, workspace_id, by, "member.role", f"user {user_id}",
                         f"{audit.actor_of(db, user_id)}: {audit.arrow(old, role)}")


class HasOwner(ValueError):
    """The workspace has an enabled owner, who manages its members: an administrator appoints none."""

    def __init__(self, workspace: dict):
        super().__init__(f"{workspace['name']} has an owner with an enabled account: its owners manage its members.")


def check_ownerless(db: sqlite_utils.Database, workspace: dict) -> None:
    """HasOwner unless the workspace is among ``ownerless_workspaces``."""
    if not any(found["id"] == workspace["id"] for found in ownerless_workspaces(db)):
        raise HasOwner(workspace)


def owner_candidate(db: sqlite_utils.Database, workspace: dict, email: str) -> dict:
    """The account with ``email``, if an administrator may make it an owner of ``workspace``, which
    has no enabled owner: one of its enabled members or, where it has none, any enabled account
    (nobody inside is left to take it over). HasOwner, or ValueError saying why not the account."""
    check_ownerless(db, workspace)
    user = get_user_by_email(db, email)
    if user is None:
        raise ValueError("No account has this email address.")
    if user["disabled"]:
        raise ValueError(f"The account of {user['name']} is disabled: enable it on Accounts first, or choose another.")
    enabled = {member["id"] for member in members(db, workspace["id"]) if not member["disabled"]}
    if enabled and user["id"] not in enabled:
        raise ValueError(f"{user['name']} is not a member of {workspace['name']}: choose one of its members.")
    return user


def appoint_owner(db: sqlite_utils.Database, workspace: dict, email: str, *, by: int) -> dict:
    """Make ``owner_candidate``'s account an owner; logged in the workspace's log and instance-wide,
    for administrators. Returns the account."""
    with write_transaction(db):
        user = owner_candidate(db, workspace, email)
        old = _role(db, workspace["id"], user["id"])
        db.execute("INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, 'owner') "
                   "ON CONFLICT DO UPDATE SET role = 'owner'", [workspace["id"], user["id"]])
        change = f"{audit.actor_of(db, user['id'])}: {audit.arrow(old, 'owner')}"
        audit.record(db, workspace["id"], by, "member.role", f"user {user['id']}", change)
        audit.record(db, None, by, "workspace.owner_appointed", f"workspace {workspace['id']}",
                     f"{workspace['name']}; {change}")
        return user


def remove_member(db: sqlite_utils.Database, workspace_id: int, user_id: int, *, by: int | None = None) -> None:
    """Remove a member, with the invitations they created there; ValueError for the last owner."""
    with write_transaction(db):
        _check_not_last_owner(db, workspace_id, user_id)
        _withdraw_invites_of(db, user_id, workspace_id, by)
        old = _role(db, workspace_id, user_id)
        if old is not None:
            db.execute("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?", [workspace_id, user_id])
            audit.record(db, workspace_id, by, "member.removed", f"user {user_id}",
                         f"{audit.actor_of(db, user_id)} (was {old})")


# Invites -----------------------------------------------------------------------------------

def create_invite(db: sqlite_utils.Database, workspace_id: int, role: str, created_by: int, hours: float) -> str:
    """A one-time invite token to join a workspace with a role (only its hash is stored)."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}.")
    token = secrets.token_urlsafe(32)
    with write_transaction(db):
        invite_id = db.execute("INSERT INTO invites (token_hash, workspace_id, role, created_by, created_at, "
                               "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                               [hash_token(token), workspace_id, role, created_by, now(), later(hours)]).lastrowid
        audit.record(db, workspace_id, created_by, "invite.created", f"invite {invite_id}", f"role: {role}")
    return token


# An invitation speaks for the owner who created it: it works only while they are still an
# enabled owner of its workspace. Demoting, removing or disabling an owner deletes their links
# (_withdraw_invites_of), so that making them an owner again revives none; this check is the
# second line, for any path that would forget.
_OPEN_INVITES = (
    "FROM invites JOIN workspaces ON workspaces.id = invites.workspace_id "
    "JOIN memberships AS creator ON creator.workspace_id = invites.workspace_id "
    "AND creator.user_id = invites.created_by AND creator.role = 'owner' "
    "JOIN users AS creator_user ON creator_user.id = invites.created_by AND NOT creator_user.disabled "
    "WHERE invites.used_at IS NULL AND invites.expires_at > ?")


def open_invite(db: sqlite_utils.Database, token: str) -> dict | None:
    """An unused, unexpired invite of a still enabled owner, with its workspace's name, or None."""
    return next(db.query(f"SELECT invites.*, workspaces.name AS workspace {_OPEN_INVITES} AND token_hash = ?",
                         [now(), hash_token(token)]), None)


def pending_invites(db: sqlite_utils.Database, workspace_id: int) -> list[dict]:
    """The workspace's invites that still work, with the name of the owner who created each."""
    return list(db.query(f"SELECT invites.id, invites.role, invites.created_at, invites.expires_at, "
                         f"invites.accounts_closed_at, creator_user.name AS creator {_OPEN_INVITES} "
                         "AND invites.workspace_id = ? ORDER BY invites.created_at", [now(), workspace_id]))


class InvitationGone(ValueError):
    """The invitation expired, was used, withdrawn, or its creator is no longer an owner."""

    def __init__(self):
        super().__init__("This invitation has expired or was already used; ask an owner for a new one.")


class AlreadyMember(ValueError):
    """The user already has the invited role or a stronger one: the invitation stays unused."""

    def __init__(self, workspace_id: int, message: str):
        super().__init__(message)
        self.workspace_id = workspace_id


def at_least(role: str, other: str) -> bool:
    """Whether ``role`` may do everything ``other`` may (ROLES runs from the strongest)."""
    return ROLES.index(role) <= ROLES.index(other)


def _open_or_gone(db: sqlite_utils.Database, token: str) -> dict:
    invite = open_invite(db, token)
    if invite is None:
        raise InvitationGone
    return invite


def _use_invite(db: sqlite_utils.Database, token: str, user_id: int) -> int:
    invite = _open_or_gone(db, token)
    current = _role(db, invite["workspace_id"], user_id)
    # Opened by mistake (by the owner who made it, say), the link stays for whoever it is meant for.
    if current and at_least(current, invite["role"]):
        raise AlreadyMember(invite["workspace_id"], f"You are already a member of {invite['workspace']} as "
                            f"{current}; the invitation is left unused for whoever it was meant for.")
    db.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?", [now(), user_id, invite["id"]])
    db.execute("INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, ?) "
               "ON CONFLICT DO UPDATE SET role = excluded.role", [invite["workspace_id"], user_id, invite["role"]])
    audit.record(db, invite["workspace_id"], user_id, "invite.accepted", f"invite {invite['id']}",
                 f"role: {invite['role']}")
    return invite["workspace_id"]


def accept_invite(db: sqlite_utils.Database, token: str, user_id: int) -> int:
    """Use an invite once: the user joins its workspace, or takes its stronger role; returns the
    workspace id. InvitationGone or AlreadyMember (nothing changes) otherwise."""
    with write_transaction(db):
        return _use_invite(db, token, user_id)


# How the audit log names a link closed to new accounts, and who closed it.
LINK_CLOSED_DETAIL = "an address with an account was entered; the link now lets an account join by logging in"
LINK_HOLDER = "whoever holds the link"


class NoNewAccount(ValueError):
    """The invitation makes no account for this address: it has one, or the link refused one before."""

    def __init__(self):
        super().__init__("This invitation cannot create an account for this address. If you already have an "
                         "account, log in to join with it; otherwise ask the owner who sent the link for a new one.")


def register_with_invite(db: sqlite_utils.Database, token: str, email: str, name: str,
                         password: str) -> tuple[int, int]:
    """A new account that joins the invite's workspace, or neither; returns (user id, workspace id).

    NoNewAccount for a taken address, which closes the link to new accounts for good: refusing
    only that address would let the link's holder try one address after another and learn which
    have accounts. The invitee who has one still joins by logging in (``accept_invite``)."""
    with write_transaction(db):
        invite = _open_or_gone(db, token)
        if link_makes_account(db, invite["accounts_closed_at"], email):
            user_id = insert_user(db, email, name, password, False, invite["workspace"])
            return user_id, _use_invite(db, token, user_id)
        if invite["accounts_closed_at"] is None:
            db.execute("UPDATE invites SET accounts_closed_at = ? WHERE id = ?", [now(), invite["id"]])
            audit.record(db, invite["workspace_id"], None, "invite.accounts_closed", f"invite {invite['id']}",
                         LINK_CLOSED_DETAIL, actor=LINK_HOLDER)
    raise NoNewAccount


def link_makes_account(db: sqlite_utils.Database, accounts_closed_at: str | None, email: str) -> bool:
    """Whether a link may create an account for this address: never once a taken address closed
    it (``accounts_closed_at``), so that its answer tells nothing more; else if the address is free.
    The caller closes the link when it was open and this says no, then raises NoNewAccount."""
    return accounts_closed_at is None and get_user_by_email(db, email) is None


def revoke_invite(db: sqlite_utils.Database, workspace_id: int, invite_id: int, *, by: int | None = None) -> None:
    with write_transaction(db):
        found = db.execute("SELECT role FROM invites WHERE id = ? AND workspace_id = ? AND used_at IS NULL",
                           [invite_id, workspace_id]).fetchone()
        if found:
            db.execute("DELETE FROM invites WHERE id = ?", [invite_id])
            audit.record(db, workspace_id, by, "invite.revoked", f"invite {invite_id}", f"role: {found[0]}")


def _withdraw_invites_of(db: sqlite_utils.Database, user_id: int, workspace_id: int | None,
                         by: int | None) -> None:
    """Delete the open invitations the user created in the workspace (None: in every workspace),
    inside the caller's write transaction: they are no longer an enabled owner there."""
    found = db.execute("SELECT id, workspace_id, role FROM invites WHERE created_by = :user AND used_at IS NULL "
                       "AND expires_at > :now AND (:workspace IS NULL OR workspace_id = :workspace)",
                       {"user": user_id, "now": now(), "workspace": workspace_id}).fetchall()
    for invite_id, workspace, role in found:
        db.execute("DELETE FROM invites WHERE id = ?", [invite_id])
        audit.record(db, workspace, by, "invite.revoked", f"invite {invite_id}",
                     f"role: {role}; its creator is no longer an enabled owner")


# Deleting a workspace ----------------------------------------------------------------------

def delete_workspace(db: sqlite_utils.Database, workspace_id: int, *, by: int | None = None) -> dict | None:
    """Delete a workspace and everything of it; returns its name and counts, or None if there was none.

    Its assessments (answers, scores, PDFs, workshops and participants' answers), memberships,
    invitations, portfolios and audit entries go by the schema's cascades and triggers; accounts
    stay. A portfolio it answered in as an agency keeps the agency, with no workspace (SET NULL).
    Logged instance-wide: the workspace's own entries go with it."""
    with write_transaction(db):
        found = first_row(db, "SELECT name, "
                          "(SELECT count(*) FROM assessments WHERE workspace_id = workspaces.id) AS assessments, "
                          "(SELECT count(*) FROM memberships WHERE workspace_id = workspaces.id) AS members "
                          "FROM workspaces WHERE id = ?", [workspace_id])
        if found is None:
            return None
        db.execute("DELETE FROM workspaces WHERE id = ?", [workspace_id])
        audit.record(db, None, by, "workspace.deleted", f"workspace {workspace_id}",
                     f"{found['name']}; assessments: {found['assessments']}; members: {found['members']}")
        return found
