"""First-run setup, log in and out, sessions kept on the server, password changes, accounts."""

import re
from pathlib import Path

import pytest

from assessment import accounts

from .conftest import EDITOR, OWNER, PASSWORD, flashes, text

SETUP = {"name": "Ada Admin", "email": "ada@example.org", "password": PASSWORD, "confirm": PASSWORD,
         "workspace": "Ministry of Examples"}


@pytest.fixture
def setup_form(app) -> dict:
    """The first-run form as the operator fills it, with the setup code the server printed."""
    return {**SETUP, "code": (Path(app.instance_path) / "setup_code").read_text().strip()}


@pytest.mark.parametrize("url", ["/", "/login", "/w/1", "/a/whatever/results", "/admin/rubrics", "/rubric"])
def test_before_the_first_account_every_page_leads_to_setup(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.location == "/setup"


def test_setup_creates_the_administrator_and_workspace_and_logs_in(app, client, db, setup_form, caplog):
    caplog.set_level("INFO", logger="sovready.security")
    response = client.post("/setup", data=setup_form)
    (workspace,) = db.execute("SELECT id FROM workspaces").fetchone()
    assert response.status_code == 302 and response.location == f"/w/{workspace}"
    assert "Ministry of Examples" in text(client.get(f"/w/{workspace}"))
    user = accounts.get_user_by_email(db, "ada@example.org")
    assert user["is_admin"] == 1 and user["password_hash"].startswith("scrypt:")
    assert any(r.getMessage().startswith("account-created ") and f"user={user['id']}" in r.getMessage()
               for r in caplog.records if r.name == "sovready.security")
    assert client.get("/setup").status_code == 404
    assert not (Path(app.instance_path) / "setup_code").exists()  # used: no longer needed


@pytest.mark.parametrize("code", [None, "", "not the code"])
def test_setup_needs_the_code_that_only_the_operator_can_read(app, client, db, code):
    """Found by probing: a new instance let whoever reached it first become its administrator.
    The code is in the instance folder, owner-only, and printed by sovready serve."""
    form = SETUP if code is None else {**SETUP, "code": code}
    response = client.post("/setup", data=form)
    assert response.status_code == 200 and not accounts.has_users(db)
    assert "This is not the setup code" in text(response) or "This field is required" in text(response)
    assert 'class="error-summary"' in text(response) and 'value="Ministry of Examples"' in text(response)
    assert (Path(app.instance_path) / "setup_code").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("change, message", [
    ({"password": "short", "confirm": "short"}, "Use at least 12 characters."),
    ({"password": "password1234", "confirm": "password1234"}, "This is a very common password."),
    ({"password": "qwertyuiop12", "confirm": "qwertyuiop12"}, "similar to a commonly used password"),
    ({"password": "x" * 12, "confirm": "x" * 12}, "Repeats like"),
    ({"password": "y" * 1025, "confirm": "y" * 1025}, "Use at most 1024 characters."),
    ({"password": "Ministry of Examples", "confirm": "Ministry of Examples"}, "less common password"),
    ({"password": "ada@example.org!", "confirm": "ada@example.org!"}, "less common password"),
    ({"confirm": "something else entirely"}, "The passwords differ."),
    ({"email": "not an address"}, "Enter an email address."),
    ({"workspace": ""}, "This field is required."),
])
def test_setup_refuses_bad_input_with_the_message_next_to_the_field(client, db, setup_form, change, message):
    response = client.post("/setup", data={**setup_form, **change})
    assert response.status_code == 200
    assert message in text(response) and 'class="error-summary"' in text(response)
    assert not accounts.has_users(db)


def test_anonymous_visitors_are_sent_to_log_in_and_back(app, people):
    client = app.test_client()
    response = client.get("/w/1?tab=x")
    assert response.status_code == 302 and response.location == "/login?next=/w/1?tab%3Dx"
    response = client.post("/login?next=/w/1", data={"email": OWNER, "password": PASSWORD})
    assert response.location == "/w/1"


@pytest.mark.parametrize("target", [
    "//evil.example/x", "https://evil.example/", "/\\evil.example",
    "/%09/evil.example",  # Werkzeug drops the tab: "//evil.example"
    "/%0D%0A/evil.example", "/%0A/evil.example",  # no valid header, once a 500 after logging in
    "/%20/evil.example", "/%E2%80%8B/evil.example",  # a space, a zero-width space
])
def test_log_in_never_redirects_off_site(app, people, target):
    response = app.test_client().post(f"/login?next={target}", data={"email": OWNER, "password": PASSWORD})
    assert response.location == "/"


@pytest.mark.parametrize("email, password", [(OWNER, "wrong password here"), ("nobody@example.org", PASSWORD)])
def test_a_wrong_email_or_password_says_so_without_telling_which(app, people, email, password):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert "The email address or the password is not right." in text(response)
    assert client.get("/account").status_code == 302


def test_log_in_starts_a_new_session_id(app, people):
    client = app.test_client()
    client.login(OWNER)
    with client.session_transaction() as session:
        first = session["sid"]
    client.login(OWNER)
    with client.session_transaction() as session:
        assert session["sid"] != first


def _stolen_cookie(client):
    with client.session_transaction() as session:
        return dict(session)


def _replay(app, cookie):
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(cookie)
    return thief.get("/account")


def test_log_out_ends_the_session_on_the_server(app, owner):
    cookie = _stolen_cookie(owner)
    assert _replay(app, cookie).status_code == 200
    response = owner.post("/logout")
    assert response.location == "/login"
    assert _replay(app, cookie).status_code == 302


def test_logging_in_over_a_session_ends_that_session(app, owner):
    """Found by probing: someone logging in on a browser where another person had not logged out
    replaced the cookie, but the other person's session stayed open on the server for its 8 hours,
    for whoever had a copy of that cookie."""
    cookie = _stolen_cookie(owner)
    owner.login(EDITOR)
    assert _replay(app, cookie).status_code == 302  # to the log-in page
    assert owner.get("/account").status_code == 200


def test_password_change_ends_other_sessions_and_keeps_this_one(app, owner, db):
    other_device = _stolen_cookie(app.test_client().login(OWNER))
    new = "a brand new long password"
    response = owner.post("/account", data={"current": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 302
    assert owner.get("/account").status_code == 200
    assert _replay(app, other_device).status_code == 302
    assert accounts.authenticate(db, OWNER, new)


def test_a_common_password_is_refused_on_change_too(owner):
    response = owner.post("/account", data={"current": PASSWORD, "password": "iloveyou1234", "confirm": "iloveyou1234"})
    assert response.status_code == 200 and "similar to a commonly used password" in text(response)
    assert owner.get("/account").status_code == 200  # the old password and session still hold


def test_the_guessability_check_stays_fast_on_a_long_password():
    """zxcvbn's time grows with length: only the first characters are checked, so a 1 KiB
    password cannot tie up a worker (a functional bound, not a timing assertion)."""
    assert accounts.GUESS_CHECK_LENGTH <= 72
    assert accounts.password_problem("correct horse " * 73) is None


def test_password_change_needs_the_current_password(owner):
    response = owner.post("/account", data={"current": "not my password", "password": "a brand new long password",
                                         "confirm": "a brand new long password"})
    assert "This is not your current password." in text(response)


def test_an_expired_session_is_refused(owner, db):
    db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    assert owner.get("/account").status_code == 302


def test_only_hashes_of_session_tokens_are_stored(owner, db):
    with owner.session_transaction() as session:
        token = session["sid"]
    assert db.execute("SELECT count(*) FROM sessions WHERE id = ?", [token]).fetchone()[0] == 0


def test_a_disabled_account_is_logged_out_and_cannot_log_in(app, owner, editor, people):
    response = owner.post(f"/admin/users/{people['editor']}/disable")
    assert flashes(response) == [] and response.status_code == 302
    assert editor.get("/account").status_code == 302
    refused = app.test_client().post("/login", data={"email": EDITOR, "password": PASSWORD})
    assert refused.status_code == 200
    owner.post(f"/admin/users/{people['editor']}/enable")
    app.test_client().login(EDITOR)


def test_admins_cannot_disable_themselves_and_others_cannot_administer(owner, editor, people):
    assert owner.post(f"/admin/users/{people['owner']}/disable").status_code == 403
    assert owner.post("/admin/users/999/disable").status_code == 404
    assert editor.get("/admin/users").status_code == 403
    assert editor.post(f"/admin/users/{people['owner']}/disable").status_code == 403
    assert "Oscar Outsider" in text(owner.get("/admin/users"))


def test_disabling_an_account_asks_first_on_a_page_that_works_without_js(owner, people, db):
    url = f"/admin/users/{people['editor']}/disable"
    users = text(owner.get("/admin/users"))
    assert f'<a class="button" href="{url}">Disable<span class="visually-hidden"> Editor</span></a>' in users
    assert f'action="{url}"' not in users  # no form that disables at once
    asking = owner.get(url)
    page = text(asking)
    assert asking.status_code == 200 and "<h1>Disable the account of Editor?</h1>" in page
    assert '<a class="button" href="/admin/users">Cancel</a>' in page
    assert not accounts.get_user(db, people["editor"])["disabled"]  # asking disables nothing
    assert owner.post(url).location == "/admin/users"
    assert accounts.get_user(db, people["editor"])["disabled"]
    assert owner.get(url).location == "/admin/users"  # nothing left to ask
    assert f'action="/admin/users/{people["editor"]}/enable"' in text(owner.get("/admin/users"))  # enabling needs no question


def test_only_administrators_are_asked_and_never_about_themselves(owner, editor, people, db):
    assert owner.get(f"/admin/users/{people['owner']}/disable").status_code == 403
    assert owner.get("/admin/users/999/disable").status_code == 404
    assert editor.get(f"/admin/users/{people['viewer']}/disable").status_code == 403
    assert editor.post(f"/admin/users/{people['viewer']}/disable").status_code == 403
    assert not accounts.get_user(db, people["viewer"])["disabled"]


@pytest.mark.parametrize("password, message", [
    ("Acme Public Agency", "less common password"),  # a workspace's name
    ("owner@example.org", "Leave your email address out of your password."),
])
def test_a_new_password_made_of_the_users_own_details_is_refused(owner, db, password, message):
    response = owner.post("/account", data={"current": PASSWORD, "password": password, "confirm": password})
    assert response.status_code == 200 and message in text(response)
    assert re.search(r'id="password-errors">((?!</ul>).)*' + re.escape(message), text(response), re.S)  # beside the field
    assert accounts.authenticate(db, OWNER, PASSWORD)


def test_a_password_change_looks_up_the_users_details_and_checks_the_password_once(owner, db, monkeypatch):
    calls = []
    for name in ("personal_details", "zxcvbn"):
        original = getattr(accounts, name)
        monkeypatch.setattr(accounts, name, lambda *args, name=name, original=original, **kwargs:
                            calls.append(name) or original(*args, **kwargs))
    new = "a brand new long password"
    assert owner.post("/account", data={"current": PASSWORD, "password": new, "confirm": new}).status_code == 302
    assert calls == ["personal_details", "zxcvbn"]


def test_a_password_made_of_a_name_is_refused():
    assert "less common password" in accounts.password_problem("Dana Schmidt 1987", ["Dana Schmidt"])
    assert accounts.password_problem("Dana Schmidt 1987") is None


def test_a_password_holding_the_emails_local_part_is_refused():
    assert accounts.password_problem("dana.schmidt rides bicycles", ["Dana.Schmidt@example.org"]) == \
        "Leave your email address out of your password."
    assert accounts.password_problem("dana.schmidt rides bicycles") is None


def _inputs(page: str) -> dict[str, str]:
    """Each visible input's name with its type and autocomplete, as 'type autocomplete'."""
    found = {}
    for tag in re.findall(r"<input [^>]*>", page):
        attributes = dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))
        if attributes["type"] != "hidden":
            found[attributes["name"]] = f"{attributes['type']} {attributes.get('autocomplete', '')}"
    return found


NEW_ACCOUNT_INPUTS = {"name": "text name", "email": "email email", "password": "password new-password",
                      "confirm": "password new-password"}


def test_the_first_run_form_says_what_each_field_is_for(client):
    """WCAG 1.3.5: browsers and password managers fill these in, and assistive technology names them."""
    assert _inputs(text(client.get("/setup"))) == NEW_ACCOUNT_INPUTS | {"workspace": "text organization",
                                                                        "code": "text off"}  # a one-time code


def test_account_forms_say_what_each_field_is_for(app, owner, db, people):
    assert _inputs(text(app.test_client().get("/login"))) == {"email": "email username",
                                                               "password": "password current-password"}
    assert _inputs(text(owner.get("/account"))) == {"current": "password current-password",
                                                    "password": "password new-password",
                                                    "confirm": "password new-password"}
    token = accounts.create_invite(db, people["workspace"], "viewer", people["owner"], 1)
    assert _inputs(text(app.test_client().get(f"/invite/{token}"))) == NEW_ACCOUNT_INPUTS


def test_spaces_around_an_email_are_no_part_of_it(app, people, client, db):
    assert app.test_client().post("/login", data={"email": f" {OWNER} ", "password": PASSWORD}).status_code == 302
    token = accounts.create_invite(db, people["workspace"], "viewer", people["owner"], 1)
    client.post(f"/invite/{token}", data={"name": "Nina", "email": "\tnina@example.org ",
                                          "password": PASSWORD, "confirm": PASSWORD})
    assert accounts.get_user_by_email(db, "nina@example.org")["email"] == "nina@example.org"


def test_a_form_sent_after_the_session_ended_says_it_was_not_saved_and_what_to_do(app, db, owner, finished):
    """A form sent after the 8 hours of a session were up went to the log-in page without a word,
    and what had been typed was gone: the page now says so while the browser's Back can still help."""
    page = f"/a/{finished}/dimensions/data"
    token = owner.csrf_token()
    db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'")
    db.conn.commit()
    response = owner.post(page, data={"csrf_token": token, "data.residency-value": "4", "go": "stay"})
    assert response.location == f"/login?next={page}"
    advice = ("Your session has ended (sessions last 8 hours after logging in), so this was not saved. Go back with "
              "your browser&#39;s Back button, which usually still shows what you typed, copy it, then log in again "
              "and enter it.")
    assert flashes(owner.get(response.location)) == [advice]
    # Once the cookie has expired as well, the form's CSRF token has nothing to match: the same advice.
    refused = app.test_client().post(page, data={"csrf_token": token, "data.residency-value": "4"})
    assert refused.status_code == 400 and advice in text(refused)
    assert f'<a href="/login?next={page}">Log in</a>' in text(refused)  # back to the page after logging in


def test_an_address_no_route_takes_is_not_found_without_a_log_in(app, people):
    """Hypothesis found it: a POST to /invite// (an empty token) told a visitor who had never logged
    in that their session had ended, and sent them to log in to reach a page that does not exist."""
    client = app.test_client()
    refused = client.post("/invite//", data={"email": OWNER}, csrf=False)
    assert refused.status_code == 404 and "Your session has ended" not in text(refused)
    assert client.get("/no-such-page").status_code == 404
    assert client.post("/healthz").status_code == 405
    assert client.get(f"/w/{people['workspace']}").location.startswith("/login?next=")  # a real page: log in first


def test_a_log_in_form_that_sat_open_too_long_gets_the_plain_advice(app):
    refused = app.test_client().post("/login", data={"email": OWNER, "password": PASSWORD}, csrf=False)
    assert refused.status_code == 400 and "Your session has ended" not in text(refused)


def test_a_setup_finished_by_someone_else_meanwhile_makes_no_second_administrator(app, client, db, setup_form,
                                                                                   monkeypatch):
    """Two people sending the setup form at once: the one whose form arrives second, having passed
    the page's check before the first account existed, gets a 404, not a second administrator."""
    accounts.create_first_admin(db, "first@example.org", "First Admin", PASSWORD, "First workspace")
    # The page's check ran before the other setup finished; the transaction's own check has not.
    monkeypatch.setattr("assessment.web.auth._needs_setup", lambda: True)
    assert client.post("/setup", data=setup_form).status_code == 404
    assert accounts.get_user_by_email(db, SETUP["email"]) is None
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1
    assert (Path(app.instance_path) / "setup_code").exists()  # not used up by the refused form
