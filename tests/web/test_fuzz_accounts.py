"""Fuzzing the account, workspace, administration and report forms (tests/web/fuzzing.py says what
each request must do: no 500; a refusal says why and changes nothing)."""

import io

from hypothesis import example, given
from hypothesis import strategies as st

from assessment import accounts
from assessment.paths import DEFAULT_RUBRIC
from assessment.storage import write_transaction

from .conftest import EDITOR, OUTSIDER, OWNER, PASSWORD, VIEWER, text
from .fuzzing import FIELD_NAMES, FUZZ, MERGED_SLASHES, VALUES, send, snapshot

EMAILS = st.one_of(VALUES, st.sampled_from([OWNER, EDITOR, VIEWER, OUTSIDER, f" {OWNER.upper()} ", "a@b", "@",
                                            "new@example.org"]))
PASSWORDS = st.one_of(VALUES, st.sampled_from([PASSWORD, "short", "x" * 12, PASSWORD + " "]))
ACCOUNT_FIELDS = {"name": VALUES, "email": EMAILS, "password": PASSWORDS, "confirm": PASSWORDS, "workspace": VALUES,
                  "extra": VALUES}
ACCOUNT = st.fixed_dictionaries({}, optional=ACCOUNT_FIELDS)
RIGHT_CODE = "the instance's setup code"  # replaced by it
SETUP = st.fixed_dictionaries({}, optional={**ACCOUNT_FIELDS, "code": st.one_of(VALUES, st.just(RIGHT_CODE))})


def _forget_failures(db):
    # Wrong passwords (at log-in and on a password change) and join codes are counted (10 in ten
    # minutes, then 429): start each example afresh.
    with write_transaction(db):
        db.execute("DELETE FROM failures")


@FUZZ
@given(form=ACCOUNT)
def test_login(client, people, db, form):
    _forget_failures(db)
    response, refused = send(client, db, "POST", "/login", data=form)
    assert (response.status_code == 200) == (refused is not None)


@FUZZ
@given(form=SETUP)
def test_first_run_setup(client, db, form):
    """Before any account exists the form is shown; once one does, the page is gone (404)."""
    if form.get("code") == RIGHT_CODE:
        form = {**form, "code": client.application.config["SETUP_CODE"]}
    response, refused = send(client, db, "POST", "/setup", data=form)
    assert response.status_code in (200, 302, 404)
    assert (response.status_code != 302) == (refused is not None)


@FUZZ
@given(form=st.fixed_dictionaries({}, optional={"current": PASSWORDS, "password": PASSWORDS, "confirm": PASSWORDS}))
def test_password_change(editor, db, form):
    _forget_failures(db)
    response, refused = send(editor, db, "POST", "/account", data=form)
    assert (response.status_code == 200) == (refused is not None)


@FUZZ
@given(name=st.one_of(st.none(), VALUES))
def test_new_workspace(viewer, db, name):
    response, refused = send(viewer, db, "POST", "/w/new", data={} if name is None else {"name": name})
    assert (response.status_code == 200) == (refused is not None)


USER_IDS = st.sampled_from([1, 2, 3, 4, 5, 99])  # owner, editor, viewer, outsider, none, none


@FUZZ
@given(action=st.sampled_from(["invite", "role", "remove", "revoke"]), user_id=USER_IDS, role=VALUES)
def test_members_invitations_roles_and_removals(owner, people, db, action, user_id, role):
    workspace = people["workspace"]
    url = {"invite": f"/w/{workspace}/members", "role": f"/w/{workspace}/members/{user_id}/role",
           "remove": f"/w/{workspace}/members/{user_id}/remove",
           "revoke": f"/w/{workspace}/invites/{user_id}/revoke"}[action]
    before = snapshot(db)
    response, refused = send(owner, db, "POST", url, data={"role": role})
    if response.status_code == 200:  # the members page: a new link, or the invitation form's errors;
        # or the page asking an owner before they give up their own ownership, which changed nothing
        asking = "Stop being an owner" in text(response)
        assert refused is not None or "/invite/" in text(response) or (asking and snapshot(db) == before)


def _closed_links(db) -> list:
    return db.execute("SELECT id, accounts_closed_at FROM invites ORDER BY id").fetchall()


@FUZZ
@given(form=ACCOUNT, token=st.one_of(st.none(), st.text(min_size=1, max_size=50)))
@example(form={}, token="/0")  # noqa: S106 (found by Hypothesis: "/invite//0" is merged and redirected)
@example(form={"name": "Ola", "email": OUTSIDER, "password": PASSWORD, "confirm": PASSWORD}, token=None)
def test_accepting_a_workspace_invitation(app, people, db, form, token):
    if token is None:  # a real invitation
        token = accounts.create_invite(db, people["workspace"], "viewer", people["owner"], 1)
    before, closed_before = snapshot(db), _closed_links(db)
    # A taken address is refused and closes the link to new accounts for good, recorded in the audit
    # log (accounts.register_with_invite): the one refusal here that writes, on purpose.
    response, refused = send(app.test_client(), db, "POST", f"/invite/{token}", data=form,
                             writes_on_refusal=frozenset({"invites", "audit"}))
    if _closed_links(db) != closed_before:
        assert refused is not None and "cannot create an account for this address" in refused
    elif refused is not None:
        assert snapshot(db) == before
    # 404: a token such as "/" leaves no route to take.
    assert response.status_code in (200, 302, 404, 410, MERGED_SLASHES)
    assert response.status_code == MERGED_SLASHES or (response.status_code != 302) == (refused is not None)


RUBRIC = DEFAULT_RUBRIC.read_text(encoding="utf-8")
# Garbage, and the shipped rubric cut short or with one line replaced by anything.
RUBRIC_FILES = st.one_of(
    st.binary(max_size=300), st.text(max_size=300).map(str.encode),
    st.integers(0, len(RUBRIC)).map(lambda cut: RUBRIC[:cut].encode()),
    st.tuples(st.integers(0, RUBRIC.count("\n")), st.text(max_size=60)).map(
        lambda change: "\n".join(line if i != change[0] else change[1]
                                 for i, line in enumerate(RUBRIC.split("\n"))).encode()))


@FUZZ
@given(content=RUBRIC_FILES, filename=st.one_of(st.just("rubric.yaml"), st.text(max_size=30)))
def test_rubric_upload(owner, db, content, filename):
    response, refused = send(owner, db, "POST", "/admin/rubrics", data={"file": (io.BytesIO(content), filename)},
                             content_type="multipart/form-data")
    assert (response.status_code == 200) == (refused is not None)


@FUZZ
@given(user_id=USER_IDS, change=st.sampled_from(["disable", "enable"]))
def test_disabling_and_enabling_accounts(owner, db, user_id, change):
    response, refused = send(owner, db, "POST", f"/admin/users/{user_id}/{change}")
    assert response.status_code in (302, 403, 404)


@FUZZ
@given(form=st.dictionaries(FIELD_NAMES, VALUES, max_size=3), who=st.sampled_from(["viewer", "outsider"]))
def test_queueing_a_report(request, finished, db, form, who):
    """Viewers may ask for the PDF; another workspace's member gets a 404 and queues nothing."""
    client = request.getfixturevalue(who)
    response, refused = send(client, db, "POST", f"/a/{finished}/report", data=form)
    assert response.status_code == (302 if who == "viewer" else 404)


@FUZZ
@given(name=st.one_of(st.none(), VALUES, st.sampled_from(["Acme Public Agency", " Acme Public Agency ", "Acme"])))
def test_deleting_a_workspace(owner, people, db, name):
    """Any typed name but the workspace's is refused beside the field; once deleted, the workspace is a 404."""
    response, refused = send(owner, db, "POST", f"/w/{people['workspace']}/delete",
                             data={} if name is None else {"name": name})
    assert response.status_code in (200, 302, 404)
    assert (response.status_code == 302) == (refused is None)
