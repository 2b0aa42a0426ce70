"""Workspaces: the dashboard, members and roles, one-time invitations, and who sees what."""

import re

import pytest

from assessment import accounts, records
from assessment.answers import load_answers
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubrics import add_rubric

from .conftest import NO_NEW_ACCOUNT, OUTSIDER, OWNER, PASSWORD, create_account, flashes, text, without_secrets


def _invite_link(client, workspace_id, role="editor") -> str:
    response = client.post(f"/w/{workspace_id}/members", data={"role": role})
    assert response.status_code == 200
    return re.search(r'value="http://localhost(/invite/[^"]+)"', text(response)).group(1)


def test_an_empty_workspace_says_how_to_start(owner, people):
    page = text(owner.get(f"/w/{people['workspace']}"))
    assert "No assessments yet." in page and "Start the first assessment" in page


def test_the_dashboard_lists_assessments_with_progress_index_and_stage(owner, people, finished, empty):
    page = text(owner.get(f"/w/{people['workspace']}"))
    assert page.index("Autumn review") < page.index("Spring review")  # most recently updated first
    assert "48/48" in page and "0/48" in page and "Developing" in page
    assert '<progress max="48" value="48"' in page


TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def test_times_shown_say_they_are_utc(owner, people, finished, workshop):
    """Stored times are UTC: a time without its zone reads as local, hours off for most of the world."""
    _invite_link(owner, people["workspace"], "viewer")
    for path in (f"/w/{people['workspace']}", f"/w/{people['workspace']}/members", f"/a/{finished}/workshops",
                 "/admin/rubrics"):
        page = text(owner.get(path))
        assert re.search(TIME, page), path
        assert not re.search(TIME + r"(?! UTC)", page), path


def test_the_dashboard_names_the_stage_as_the_rubric_and_results_page_do(owner, people, db):
    """It wrote the stage's id, capitalized: a rubric naming its stages otherwise read differently there."""
    source = DEFAULT_RUBRIC.read_text().replace("version: 1.0.1", "version: 1.1.0")
    rubric, _ = add_rubric(db, source.replace("name: Developing", "name: Building"), "renamed.yaml")
    assessment_id = records.create_assessment(db, people["workspace"], rubric, "Renamed stages",
                                              answers=load_answers(EXAMPLES / "mid-enterprise.yaml", rubric))
    assert "Stage: <strong>Building</strong>" in text(owner.get(f"/a/{assessment_id}/results"))
    assert re.search(r"<td>Building</td>", text(owner.get(f"/w/{people['workspace']}")))


def test_a_viewer_sees_the_dashboard_without_write_buttons(viewer, people, finished):
    page = text(viewer.get(f"/w/{people['workspace']}"))
    assert "Spring review" in page and "New assessment" not in page and "Import answers" not in page


def test_anyone_can_create_a_workspace_and_owns_it(outsider, people, db):
    response = outsider.post("/w/new", data={"name": "Third Org"})
    workspace_id = int(response.location.rsplit("/", 1)[1])
    assert accounts.membership(db, workspace_id, people["outsider"])["role"] == "owner"
    assert text(outsider.get("/")).count("/w/") >= 2  # two workspaces: a list, not a redirect


def test_a_single_workspace_user_lands_in_it(owner, people):
    assert owner.get("/").location == f"/w/{people['workspace']}"


def test_an_invitation_creates_an_account_that_joins_with_the_role(app, owner, people, db):
    link = _invite_link(owner, people["workspace"], "viewer")
    newcomer = app.test_client()
    assert "Join Acme Public Agency" in text(newcomer.get(link))
    response = newcomer.post(link, data={"name": "Nina New", "email": "nina@example.org",
                                         "password": PASSWORD, "confirm": PASSWORD})
    assert response.location == f"/w/{people['workspace']}"
    user = accounts.get_user_by_email(db, "nina@example.org")
    assert accounts.membership(db, people["workspace"], user["id"])["role"] == "viewer"
    assert app.test_client().get(link).status_code == 410  # used once


def test_a_logged_in_user_accepts_an_invitation_with_one_click(owner, outsider, people, db):
    link = _invite_link(owner, people["workspace"], "editor")
    response = outsider.post(link)
    assert response.location == f"/w/{people['workspace']}"
    assert accounts.membership(db, people["workspace"], people["outsider"])["role"] == "editor"


def test_invitation_links_expire_and_can_be_withdrawn(owner, people, db):
    link = _invite_link(owner, people["workspace"])
    db.execute("UPDATE invites SET expires_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    assert owner.get(link).status_code == 410
    link = _invite_link(owner, people["workspace"])
    (invite,) = accounts.pending_invites(db, people["workspace"])
    owner.post(f"/w/{people['workspace']}/invites/{invite['id']}/revoke")
    assert owner.get(link).status_code == 410
    assert owner.get("/invite/made-up-token").status_code == 410


def test_only_hashes_of_invitation_tokens_are_stored(owner, people, db):
    token = _invite_link(owner, people["workspace"]).rsplit("/", 1)[1]
    assert db.execute("SELECT count(*) FROM invites WHERE token_hash = ?", [token]).fetchone()[0] == 0


def test_owners_change_roles_and_remove_members(owner, people, db):
    workspace = people["workspace"]
    owner.post(f"/w/{workspace}/members/{people['editor']}/role", data={"role": "viewer"})
    assert accounts.membership(db, workspace, people["editor"])["role"] == "viewer"
    owner.post(f"/w/{workspace}/members/{people['editor']}/remove")
    assert accounts.membership(db, workspace, people["editor"]) is None


def test_removing_a_member_asks_first_on_a_page_that_works_without_js(owner, editor, people, db):
    workspace, member = people["workspace"], people["editor"]
    assert f'href="/w/{workspace}/members/{member}/remove"' in text(owner.get(f"/w/{workspace}/members"))
    asking = owner.get(f"/w/{workspace}/members/{member}/remove")
    assert asking.status_code == 200 and "<h1>Remove Editor from Acme Public Agency?</h1>" in text(asking)
    assert f'<a class="button" href="/w/{workspace}/members">Cancel</a>' in text(asking)
    assert accounts.membership(db, workspace, member) is not None
    assert owner.get(f"/w/{workspace}/members/{people['outsider']}/remove").status_code == 404  # not a member
    assert editor.get(f"/w/{workspace}/members/{people['owner']}/remove").status_code == 403


def test_the_last_owner_stays(owner, people, db):
    response = owner.post(f"/w/{people['workspace']}/members/{people['owner']}/role",
                          data={"role": "editor", "confirmed": "yes"}, follow_redirects=True)
    assert flashes(response) == ["A workspace needs at least one owner with an enabled account."]
    owner.post(f"/w/{people['workspace']}/members/{people['owner']}/remove")
    assert accounts.membership(db, people["workspace"], people["owner"])["role"] == "owner"


def test_an_unknown_role_is_a_bad_request(owner, people):
    response = owner.post(f"/w/{people['workspace']}/members/{people['editor']}/role", data={"role": "emperor"})
    assert response.status_code == 400


def test_an_owner_alone_in_a_workspace_is_shown_how_to_add_colleagues(outsider, owner, people):
    """A members table of one row (yourself) said nothing of what to do next."""
    alone = text(outsider.get(f"/w/{people['other_workspace']}/members"))
    assert "You are the only member so far." in alone and '<a href="#invite-title">' in alone
    assert "the only member so far" not in text(owner.get(f"/w/{people['workspace']}/members"))


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_only_owners_manage_members(request, people, who):
    client = request.getfixturevalue(who)
    workspace = people["workspace"]
    assert client.get(f"/w/{workspace}/members").status_code == 200
    assert client.post(f"/w/{workspace}/members", data={"role": "owner"}).status_code == 403
    assert client.post(f"/w/{workspace}/members/{people['owner']}/role", data={"role": "viewer"}).status_code == 403
    assert client.post(f"/w/{workspace}/members/{people['owner']}/remove").status_code == 403
    assert client.post(f"/w/{workspace}/invites/1/revoke").status_code == 403


@pytest.mark.parametrize("path", ["", "/members", "/import", "/assessments/new"])
def test_another_workspace_is_not_found(outsider, people, path):
    assert outsider.get(f"/w/{people['workspace']}{path}").status_code == 404


def test_workspace_and_portfolio_ids_in_urls_are_random_not_counted(people, portfolio):
    """/w/1, /w/2... would be guessable and would say how many organizations use the instance."""
    ids = [people["workspace"], people["other_workspace"], portfolio]
    assert len(set(ids)) == 3 and all(2**20 < i < 2**53 for i in ids)  # below 2**20 by chance: 1 in 8 billion


def test_withdrawing_an_invitation_asks_first_on_a_page_that_works_without_js(owner, people, db):
    workspace = people["workspace"]
    _invite_link(owner, workspace, "viewer")
    (invite,) = accounts.pending_invites(db, workspace)
    url = f"/w/{workspace}/invites/{invite['id']}/revoke"
    members = text(owner.get(f"/w/{workspace}/members"))
    assert f'<a class="button" href="{url}">Withdraw' in members and f'action="{url}"' not in members
    asking = owner.get(url)
    page = text(asking)
    assert asking.status_code == 200 and "<h1>Withdraw the invitation to join as viewer?</h1>" in page
    assert f'<a class="button" href="/w/{workspace}/members">Cancel</a>' in page
    assert accounts.pending_invites(db, workspace) == [invite]  # asking withdraws nothing
    assert owner.post(url).location == f"/w/{workspace}/members"
    assert accounts.pending_invites(db, workspace) == []
    assert owner.get(url).status_code == 404  # withdrawn: nothing to ask about


@pytest.mark.parametrize("who, status", [("editor", 403), ("viewer", 403), ("outsider", 404)])
def test_only_owners_are_asked_to_withdraw_an_invitation(request, owner, people, db, who, status):
    _invite_link(owner, people["workspace"])
    (invite,) = accounts.pending_invites(db, people["workspace"])
    client, url = request.getfixturevalue(who), f"/w/{people['workspace']}/invites/{invite['id']}/revoke"
    assert client.get(url).status_code == status
    assert client.post(url).status_code == status
    assert accounts.pending_invites(db, people["workspace"]) == [invite]


@pytest.mark.parametrize("change", [
    lambda db, people: accounts.set_role(db, people["workspace"], people["owner"], "viewer"),
    lambda db, people: accounts.remove_member(db, people["workspace"], people["owner"]),
    lambda db, people: accounts.set_disabled(db, people["owner"], True),
], ids=["demoted", "removed", "disabled"])
def test_an_invitation_stops_working_when_its_creator_is_no_longer_an_enabled_owner(app, owner, people, db, change):
    link = _invite_link(owner, people["workspace"], "owner")
    accounts.set_role(db, people["workspace"], people["editor"], "owner")  # so that the owner may go
    change(db, people)
    newcomer = app.test_client()
    assert newcomer.get(link).status_code == 410
    response = newcomer.post(link, data={"name": "Mallory", "email": "mallory@example.org",
                                         "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 410 and accounts.get_user_by_email(db, "mallory@example.org") is None
    assert accounts.pending_invites(db, people["workspace"]) == []  # no longer listed as open


def _rejoin_as_owner(db, people):
    token = accounts.create_invite(db, people["workspace"], "owner", people["editor"], 1)
    accounts.accept_invite(db, token, people["owner"])


@pytest.mark.parametrize("change, undo", [
    (lambda db, people: accounts.set_role(db, people["workspace"], people["owner"], "viewer"),
     lambda db, people: accounts.set_role(db, people["workspace"], people["owner"], "owner")),
    (lambda db, people: accounts.remove_member(db, people["workspace"], people["owner"]), _rejoin_as_owner),
    (lambda db, people: accounts.set_disabled(db, people["owner"], True),
     lambda db, people: accounts.set_disabled(db, people["owner"], False)),
], ids=["demoted", "removed", "disabled"])
def test_an_invitation_stays_dead_when_its_creator_becomes_an_owner_again(app, owner, people, db, change, undo):
    link = _invite_link(owner, people["workspace"], "owner")
    accounts.set_role(db, people["workspace"], people["editor"], "owner")  # so that the owner may go
    change(db, people)
    undo(db, people)
    assert accounts.membership(db, people["workspace"], people["owner"])["role"] == "owner"
    assert app.test_client().get(link).status_code == 410
    assert accounts.pending_invites(db, people["workspace"]) == []
    (entry,) = db.query("SELECT * FROM audit WHERE action = 'invite.revoked'")
    assert entry["workspace_id"] == people["workspace"]
    assert entry["detail"] == "role: owner; its creator is no longer an enabled owner"


def test_open_invitations_name_their_creator(owner, people):
    _invite_link(owner, people["workspace"], "viewer")
    assert "Viewer, created by Olga Owner" in text(owner.get(f"/w/{people['workspace']}/members"))


def test_a_disabled_owner_does_not_count_as_the_owner_who_stays(owner, people, db):
    workspace = people["workspace"]
    accounts.set_role(db, workspace, people["editor"], "owner")
    accounts.set_disabled(db, people["editor"], True)
    response = owner.post(f"/w/{workspace}/members/{people['owner']}/role", data={"role": "viewer", "confirmed": "yes"},
                          follow_redirects=True)
    assert flashes(response) == ["A workspace needs at least one owner with an enabled account."]
    owner.post(f"/w/{workspace}/members/{people['owner']}/remove")
    assert accounts.membership(db, workspace, people["owner"])["role"] == "owner"
    owner.post(f"/w/{workspace}/members/{people['editor']}/role", data={"role": "viewer"})  # the disabled one may go
    assert accounts.membership(db, workspace, people["editor"])["role"] == "viewer"


@pytest.mark.parametrize("password, message", [
    ("dana.schmidt@example.org", "Leave your email address out of your password."),
    ("Acme Public Agency", "less common password"),  # the workspace's name
])
def test_an_invitation_refuses_a_password_made_of_the_newcomers_details(app, owner, people, db, password, message):
    link = _invite_link(owner, people["workspace"])
    response = app.test_client().post(link, data={"name": "Dana Schmidt", "email": "dana.schmidt@example.org",
                                                  "password": password, "confirm": password})
    assert response.status_code == 200 and message in text(response)
    assert accounts.get_user_by_email(db, "dana.schmidt@example.org") is None


def test_an_owner_is_asked_before_giving_up_their_own_ownership(owner, people, db):
    workspace, me = people["workspace"], people["owner"]
    accounts.set_role(db, workspace, people["editor"], "owner")
    url = f"/w/{workspace}/members/{me}/role"
    asking = owner.post(url, data={"role": "viewer"})
    page = text(asking)
    assert asking.status_code == 200 and "<h1>Stop being an owner of Acme Public Agency?</h1>" in page
    assert '<input type="hidden" name="role" value="viewer">' in page
    assert f'<a class="button" href="/w/{workspace}/members">Cancel</a>' in page
    assert accounts.membership(db, workspace, me)["role"] == "owner"  # asking changes nothing
    response = owner.post(url, data={"role": "viewer", "confirmed": "yes"}, follow_redirects=True)
    assert flashes(response) == ["Olga Owner is now viewer."]
    assert accounts.membership(db, workspace, me)["role"] == "viewer"


def test_a_role_change_says_so_and_a_non_member_is_not_found(owner, people, db):
    workspace = people["workspace"]
    response = owner.post(f"/w/{workspace}/members/{people['editor']}/role", data={"role": "viewer"},
                          follow_redirects=True)
    assert flashes(response) == ["Editor is now viewer."]
    assert owner.post(f"/w/{workspace}/members/{people['outsider']}/role", data={"role": "viewer"}).status_code == 404
    assert owner.post(f"/w/{workspace}/members/99999/role", data={"role": "viewer"}).status_code == 404
    assert accounts.membership(db, workspace, people["outsider"]) is None


def test_removing_yourself_asks_so_and_ends_on_your_workspaces_with_a_message(owner, people, db):
    workspace, me = people["workspace"], people["owner"]
    accounts.set_role(db, workspace, people["editor"], "owner")
    asking = text(owner.get(f"/w/{workspace}/members/{me}/remove"))
    assert "<h1>Remove yourself from Acme Public Agency?</h1>" in asking and "Remove myself" in asking
    response = owner.post(f"/w/{workspace}/members/{me}/remove")
    assert response.location == "/"
    assert flashes(owner.get("/", follow_redirects=True)) == ["You have left Acme Public Agency."]
    assert accounts.membership(db, workspace, me) is None


def test_a_used_invitation_says_so_with_a_410(app, owner, people):
    link = _invite_link(owner, people["workspace"], "viewer")
    app.test_client().post(link, data={"name": "Nina New", "email": "nina@example.org",
                                       "password": PASSWORD, "confirm": PASSWORD})
    response = app.test_client().get(link)
    assert response.status_code == 410
    assert "This invitation has expired or was already used; ask an owner for a new one." in text(response)


@pytest.mark.parametrize("who, role", [("owner", "editor"), ("editor", "editor"), ("editor", "viewer")])
def test_a_member_who_already_has_the_role_leaves_the_invitation_unused(request, owner, people, db, who, role):
    link = _invite_link(owner, people["workspace"], role)
    client = request.getfixturevalue(who)
    assert "You are already a member of this workspace as" in text(client.get(link))
    response = client.post(link, follow_redirects=True)
    assert flashes(response) == [f"You are already a member of Acme Public Agency as {who}; "
                                 "the invitation is left unused for whoever it was meant for."]
    assert accounts.membership(db, people["workspace"], people[who])["role"] == who
    assert len(accounts.pending_invites(db, people["workspace"])) == 1  # still open


def test_a_member_takes_the_stronger_role_of_an_invitation(owner, viewer, people, db):
    link = _invite_link(owner, people["workspace"], "editor")
    assert viewer.post(link).location == f"/w/{people['workspace']}"
    assert accounts.membership(db, people["workspace"], people["viewer"])["role"] == "editor"
    assert accounts.pending_invites(db, people["workspace"]) == []


def test_a_taken_email_is_refused_beside_the_field_and_the_link_then_makes_no_account(app, owner, people, db):
    link = _invite_link(owner, people["workspace"], "viewer")
    prober = app.test_client()
    response = create_account(prober, link, " EDITOR@example.org ")
    page = text(response)
    assert response.status_code == 200 and 'class="error-summary"' in page
    assert f'<a href="#email">Email address: {NO_NEW_ACCOUNT}</a>' in page
    assert flashes(response) == [] and len(accounts.pending_invites(db, people["workspace"])) == 1
    # From now on a free address and a taken one get the same answer: the link asks no second question.
    free, taken = create_account(prober, link, "nobody@example.org"), create_account(prober, link, OWNER)
    assert without_secrets(text(free)) == without_secrets(text(taken)) == without_secrets(page)
    assert accounts.get_user_by_email(db, "nobody@example.org") is None
    assert "Create account and join" not in text(prober.get(link))  # it offers the log-in instead
    assert "for an existing account only" in text(owner.get(f"/w/{people['workspace']}/members"))


def test_after_a_taken_email_the_invitee_still_joins_by_logging_in(app, owner, people, db):
    link = _invite_link(owner, people["workspace"], "editor")
    invitee = app.test_client()
    create_account(invitee, link, OUTSIDER)
    page = text(invitee.get(link))
    assert NO_NEW_ACCOUNT in page and f'href="/login?next={link}"' in page
    invitee.login(OUTSIDER)
    assert invitee.post(link).location == f"/w/{people['workspace']}"
    assert accounts.membership(db, people["workspace"], people["outsider"])["role"] == "editor"


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_a_member_leaves_after_being_asked(request, people, db, who):
    client, workspace = request.getfixturevalue(who), people["workspace"]
    url = f"/w/{workspace}/leave"
    assert f'href="{url}"' in text(client.get(f"/w/{workspace}/members"))
    asking = text(client.get(url))
    assert "<h1>Leave Acme Public Agency?</h1>" in asking and f'<a class="button" href="/w/{workspace}/members">Cancel</a>' in asking
    assert accounts.membership(db, workspace, people[who]) is not None  # asking changes nothing
    assert client.post(url).location == "/"
    assert flashes(client.get("/", follow_redirects=True)) == ["You have left Acme Public Agency."]
    assert accounts.membership(db, workspace, people[who]) is None
    assert client.get(url).status_code == 404


def test_the_last_owner_cannot_leave(owner, people, db):
    workspace = people["workspace"]
    assert f'href="/w/{workspace}/leave"' not in text(owner.get(f"/w/{workspace}/members"))
    response = owner.post(f"/w/{workspace}/leave", follow_redirects=True)
    assert flashes(response) == ["A workspace needs at least one owner with an enabled account."]
    assert accounts.membership(db, workspace, people["owner"])["role"] == "owner"
