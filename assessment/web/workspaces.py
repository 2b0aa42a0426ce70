"""Workspaces: the dashboard of assessments, members, roles and invitations."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from .. import accounts, portfolios, records
from ..rubrics import stored_rubric
from . import get_db, security_log
from .access import listed, workspace_for
from .auth import log_in
from .confirm import ask_first, confirm_page
from .forms import AccountForm, ActionForm, DeleteWorkspaceForm, InviteForm, RoleForm, WorkspaceForm

bp = Blueprint("workspaces", __name__)


@bp.get("/")
def index():
    mine = accounts.workspaces_for(get_db(), g.user["id"])
    if len(mine) == 1:
        return redirect(url_for("workspaces.dashboard", workspace_id=mine[0]["id"]))
    return render_template("workspaces/index.html", workspaces=mine)


@bp.route("/w/new", methods=["GET", "POST"])
def new():
    form = WorkspaceForm()
    if form.validate_on_submit():
        workspace_id = accounts.create_workspace(get_db(), form.name.data, g.user["id"])
        return redirect(url_for("workspaces.dashboard", workspace_id=workspace_id))
    return render_template("workspaces/new.html", form=form)


@bp.get("/w/<int:workspace_id>")
def dashboard(workspace_id: int):
    workspace = workspace_for(workspace_id)
    return render_template("workspaces/dashboard.html", workspace=workspace,
                           assessments=_with_stage_names(records.assessments_in(get_db(), workspace_id)),
                           workspaces=accounts.workspaces_for(get_db(), g.user["id"]))


def _with_stage_names(assessments: list[dict]) -> list[dict]:
    """Each assessment with its stage's name in its rubric version, as its results page gives it."""
    names: dict[tuple[str, str], dict[str, str]] = {}  # per rubric version: most rows share one
    for row in assessments:
        version = (row["rubric_id"], row["rubric_version"])
        if version not in names:
            names[version] = {s.id: s.name for s in stored_rubric(get_db(), *version).stages}
        row["stage_name"] = names[version].get(row["stage"])
    return assessments


@bp.route("/w/<int:workspace_id>/members", methods=["GET", "POST"])
def members(workspace_id: int):
    workspace = workspace_for(workspace_id, manage=request.method == "POST")
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        token = accounts.create_invite(get_db(), workspace_id, form.role.data, g.user["id"],
                                       current_app.config["INVITE_HOURS"])
        # Shown once, on this response only: the database keeps nothing but its hash.
        link = url_for("workspaces.invite", token=token, _external=True)
    return render_template("workspaces/members.html", workspace=workspace, form=form, link=link,
                           members=accounts.members(get_db(), workspace_id), role_form=RoleForm(),
                           invites=accounts.pending_invites(get_db(), workspace_id), action=ActionForm(),
                           may_leave=not accounts.is_last_owner(get_db(), workspace_id, g.user["id"]))


@bp.post("/w/<int:workspace_id>/members/<int:user_id>/role")
def change_role(workspace_id: int, user_id: int):
    workspace = workspace_for(workspace_id, manage=True)
    member = listed(accounts.members(get_db(), workspace_id), user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = form.role.data
    if _gives_up_ownership(workspace, user_id, role) and form.confirmed.data != "yes":
        return confirm_page(
            f"Stop being an owner of {workspace['name']}?",
            f"As {role} you can no longer invite people, change roles or remove members, and the invitation "
            "links you created stop working. Only another owner can make you an owner again.",
            f"Become {role}", url_for("workspaces.members", workspace_id=workspace_id), _members_crumbs(workspace),
            hidden={"role": role, "confirmed": "yes"})
    if _member_change(accounts.set_role, workspace_id, user_id, role):
        flash(f"{member['name']} is now {role}.")
    return redirect(url_for("workspaces.members", workspace_id=workspace_id))


def _gives_up_ownership(workspace, user_id: int, role: str) -> bool:
    """Whether the owner is making themselves an editor or viewer, and may (the last one may not:
    asking would only end in a refusal)."""
    return (user_id == g.user["id"] and role != "owner"
            and not accounts.is_last_owner(get_db(), workspace["id"], user_id))


@bp.route("/w/<int:workspace_id>/members/<int:user_id>/remove", methods=["GET", "POST"])
def remove_member(workspace_id: int, user_id: int):
    """GET asks (a page, so that it works without JS); POST removes. Both only for owners, of members."""
    workspace = workspace_for(workspace_id, manage=True)
    member = listed(accounts.members(get_db(), workspace_id), user_id)
    if user_id == g.user["id"]:
        question = (f"Remove yourself from {workspace['name']}?", LEAVING, "Remove myself")
    else:
        question = (f"Remove {member['name']} from {workspace['name']}?",
                    "They will no longer see or change this workspace's assessments. An owner can invite them again.",
                    f"Remove {member['name']}")
    if asking := ask_first(*question, url_for("workspaces.members", workspace_id=workspace_id),
                           _members_crumbs(workspace)):
        return asking
    if not _member_change(accounts.remove_member, workspace_id, user_id):
        return redirect(url_for("workspaces.members", workspace_id=workspace_id))
    if user_id == g.user["id"]:
        return _left(workspace)
    flash(f"{member['name']} is removed from {workspace['name']}.")
    return redirect(url_for("workspaces.members", workspace_id=workspace_id))


LEAVING = ("You will no longer see or change this workspace's assessments, and the invitation links you "
           "created stop working. Only an owner can invite you again.")


@bp.route("/w/<int:workspace_id>/leave", methods=["GET", "POST"])
def leave(workspace_id: int):
    """GET asks (a page, so that it works without JS); POST leaves. Any member but the last enabled owner."""
    workspace = workspace_for(workspace_id)
    members_page = url_for("workspaces.members", workspace_id=workspace_id)
    if asking := ask_first(f"Leave {workspace['name']}?", LEAVING, "Leave the workspace", members_page,
                           _members_crumbs(workspace)):
        return asking
    if not _member_change(accounts.remove_member, workspace_id, g.user["id"]):
        return redirect(members_page)
    return _left(workspace)


def _left(workspace):
    # The workspace's pages are no longer theirs to see: back to their list of workspaces.
    flash(f"You have left {workspace['name']}.")
    return redirect(url_for("workspaces.index"))


@bp.route("/w/<int:workspace_id>/delete", methods=["GET", "POST"])
def delete(workspace_id: int):
    """GET asks, on a page that says what goes; POST deletes once the owner has typed the name. Owners only."""
    workspace = workspace_for(workspace_id, manage=True)
    form = DeleteWorkspaceForm()
    if form.validate_on_submit():
        if form.name.data.strip() == workspace["name"].strip():
            # None: another owner deleted it a moment ago; it is gone either way.
            if deleted := accounts.delete_workspace(get_db(), workspace_id, by=g.user["id"]):
                security_log.event("workspace-deleted", user=g.user["id"], workspace=workspace_id,
                                   assessments=deleted["assessments"], members=deleted["members"])
            flash(f"{workspace['name']} and everything in it is deleted.")
            return redirect(url_for("workspaces.index"))
        form.name.errors.append(f"This is not the workspace's name: type {workspace['name']} exactly. "
                                "Nothing was deleted.")
    db = get_db()
    return render_template("workspaces/delete.html", workspace=workspace, form=form,
                           crumbs=_members_crumbs(workspace), assessments=records.assessments_in(db, workspace_id),
                           members=accounts.members(db, workspace_id),
                           invites=accounts.pending_invites(db, workspace_id),
                           owned=portfolios.portfolios_in(db, workspace_id),
                           answered=portfolios.agencies_of_workspace(db, workspace_id))


def _members_crumbs(workspace) -> list:
    return [(workspace["name"], url_for("workspaces.dashboard", workspace_id=workspace["id"])),
            ("Members", url_for("workspaces.members", workspace_id=workspace["id"]))]


def _member_change(change, *args) -> bool:
    """Make the change as the current user; False, with the reason flashed, if it was refused."""
    try:
        change(get_db(), *args, by=g.user["id"])
    except ValueError as error:  # the last owner stays
        flash(str(error), "error")
        return False
    return True


@bp.route("/w/<int:workspace_id>/invites/<int:invite_id>/revoke", methods=["GET", "POST"])
def revoke(workspace_id: int, invite_id: int):
    """GET asks (a page, so that it works without JS); POST withdraws. Both only for owners, of open invitations."""
    workspace = workspace_for(workspace_id, manage=True)
    invite = listed(accounts.pending_invites(get_db(), workspace_id), invite_id)
    if asking := ask_first(
            f"Withdraw the invitation to join as {invite['role']}?",
            f"The link, created {invite['created_at'][:16].replace('T', ' ')}, will no longer let anyone join "
            f"{workspace['name']}. You can create a new one.",
            "Withdraw the invitation", url_for("workspaces.members", workspace_id=workspace_id),
            _members_crumbs(workspace)):
        return asking
    accounts.revoke_invite(get_db(), workspace_id, invite_id, by=g.user["id"])
    flash("The invitation is withdrawn.")
    return redirect(url_for("workspaces.members", workspace_id=workspace_id))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    found = accounts.open_invite(get_db(), token)
    if found is None:
        return _invitation_gone()
    form = ActionForm() if g.user else AccountForm()
    form.personal = [found["workspace"]]
    if form.validate_on_submit():
        try:
            workspace_id = _join(token, form)
        except accounts.InvitationGone:  # used or withdrawn a moment ago
            return _invitation_gone()
        except accounts.AlreadyMember as already:
            flash(str(already))
            return redirect(url_for("workspaces.dashboard", workspace_id=already.workspace_id))
        except accounts.NoNewAccount as error:  # beside the field, and so in the page's error summary
            security_log.event("invite-account-refused", invite=found["id"])
            form.email.errors.append(str(error))
        except ValueError as error:  # the password (the form checks it as insert_user does, so hardly ever)
            form.password.errors.append(str(error))
        else:
            flash(f"You have joined {found['workspace']}.")
            return redirect(url_for("workspaces.dashboard", workspace_id=workspace_id))
    return render_template("workspaces/invite.html", invite=found, form=form, token=token,
                           already=_role_covering(found), no_new_account=str(accounts.NoNewAccount()))


def _role_covering(invite) -> str | None:
    """The logged-in user's role in the invite's workspace if it already covers the invited one."""
    mine = g.user and accounts.membership(get_db(), invite["workspace_id"], g.user["id"])
    return mine["role"] if mine and accounts.at_least(mine["role"], invite["role"]) else None


def _invitation_gone():
    return render_template("workspaces/invite_gone.html", message=str(accounts.InvitationGone())), 410


def _join(token: str, form) -> int:
    """Accept the invite for the logged-in user, or for the account the form creates (then log in)."""
    if g.user:
        return accounts.accept_invite(get_db(), token, g.user["id"])
    user_id, workspace_id = accounts.register_with_invite(get_db(), token, form.email.data, form.name.data,
                                                          form.password.data)
    log_in(user_id, "account-created")
    return workspace_id
