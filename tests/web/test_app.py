"""The app factory, the instance folder, configuration, security headers and the error pages."""

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessment import web, workshops
from assessment.cli import cli
from assessment.web import SettingError, auth, create_app, security
from assessment.web.forms import file_size
from bench.web import free_port

from .conftest import OWNER, PASSWORD, text


def test_rubric_page_lists_every_dimension(owner, default_rubric):
    response = owner.get("/rubric")
    assert response.status_code == 200
    for dimension in default_rubric.dimensions:
        assert dimension.title in text(response)
    assert "48 questions" in text(response)


def test_first_run_creates_database_and_secret_key_in_the_instance(app, tmp_path):
    instance = tmp_path / "instance"
    assert (instance / "sovready.db").exists()
    key = instance / "secret_key"
    assert len(key.read_text()) == 64
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key.read_text()


def test_a_new_instance_folder_is_the_owners_alone(app, tmp_path):
    """Found by probing: with the usual umask the folder, the database, its journal and the PDF
    queue were readable by every account on the machine: every organization's answers and
    notes, and the password hashes. A folder the operator made is left as they made it."""
    assert stat.S_IMODE((tmp_path / "instance").stat().st_mode) == 0o700


def test_restart_keeps_the_secret_key_and_stores_the_rubric_once(app, tmp_path):
    again = create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    with again.app_context():
        from assessment.web import get_db
        assert get_db().table("rubrics").count == 1


def test_sessions_last_hours_and_csrf_tokens_as_long_as_the_longest(app):
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
    assert app.config["WTF_CSRF_TIME_LIMIT"] == workshops.PARTICIPANT_IDLE_HOURS * 3600  # a participant's
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.config["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize("idle_hours", [24, 36])
def test_a_participants_cookie_and_the_csrf_tokens_last_as_long_from_one_reckoning(tmp_path, monkeypatch,
                                                                                   idle_hours):
    """The longer of SESSION_HOURS and PARTICIPANT_IDLE_HOURS was worked out twice, for the cookie and for
    the CSRF token: changing one reckoning would have left forms that a participant's cookie outlived."""
    monkeypatch.setattr(web, "PARTICIPANT_IDLE_HOURS", idle_hours)
    app = create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    participant = auth.cookie_lifetime(app, {"workshops": {"w": "token"}})
    assert participant.total_seconds() == app.config["WTF_CSRF_TIME_LIMIT"] == idle_hours * 3600
    assert auth.cookie_lifetime(app, {"sid": "s"}).total_seconds() == 8 * 3600  # an account's: SESSION_HOURS


def test_https_and_session_hours_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SOVREADY_HTTPS", "true")
    monkeypatch.setenv("SOVREADY_SESSION_HOURS", "36")
    app = create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == app.config["WTF_CSRF_TIME_LIMIT"] == 36 * 3600


@pytest.mark.parametrize(("value", "https"), [("False", False), ("off", False), ("no", False), ("0", False),
                                              ("True", True), ("on", True), ("yes", True)])
def test_https_reads_every_usual_way_of_saying_yes_or_no(tmp_path, monkeypatch, value, https):
    """Not JSON, "False" arrived as text, which is true: HTTPS turned on and plain-HTTP log-ins failed."""
    monkeypatch.setenv("SOVREADY_HTTPS", value)
    app = create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    assert app.config["HTTPS"] is https and app.config["SESSION_COOKIE_SECURE"] is https


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HTTPS", "maybe", "SOVREADY_HTTPS='maybe': expected true or false"),
    ("SESSION_HOURS", "eight", "SOVREADY_SESSION_HOURS='eight': expected a whole number of at least 1"),
    ("SESSION_HOURS", "0", "SOVREADY_SESSION_HOURS=0: expected a whole number of at least 1"),
    ("PROXIES", "-1", "SOVREADY_PROXIES=-1: expected a whole number of at least 0"),
    ("MAX_CONTENT_LENGTH", "1.5", "SOVREADY_MAX_CONTENT_LENGTH=1.5: expected a whole number of at least 1"),
    ("WORKSHOP_MAX_PARTICIPANTS", "0", "SOVREADY_WORKSHOP_MAX_PARTICIPANTS=0: expected a whole number of at least 1"),
])
def test_a_setting_that_cannot_be_used_stops_the_start_with_its_name(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(f"SOVREADY_{name}", value)
    with pytest.raises(SettingError) as refused:
        create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    assert str(refused.value) == message


def test_serve_refuses_a_bad_setting_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SOVREADY_HTTPS", "maybe")
    result = CliRunner().invoke(cli, ["serve", "--port", str(free_port()), "--instance", str(tmp_path)])
    assert result.exit_code == 2 and result.output == "Error: SOVREADY_HTTPS='maybe': expected true or false\n"


def test_session_cookie_is_httponly_lax_and_expires_in_hours(client, people):
    response = client.post("/login", data={"email": OWNER, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize("url", ["/login", "/healthz", "/account", "/nothing-here"])
def test_every_response_has_the_security_headers(owner, url):
    response = owner.get(url)
    for name, value in security.HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_static_files_are_cacheable_and_pages_have_no_inline_script_or_style(owner, finished):
    with owner.get("/static/app.css") as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")
    page = text(owner.get(f"/a/{finished}/results"))
    assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_health_and_unknown_pages(owner):
    assert owner.get("/healthz").get_json() == {"status": "ok"}
    response = owner.get("/nothing-here")
    assert response.status_code == 404
    assert "There is nothing here" in text(response)


def test_a_post_without_csrf_token_is_refused_with_400(owner):
    response = owner.post("/w/new", data={"name": "Sneaky"}, csrf=False)
    assert response.status_code == 400
    assert "reload the page" in text(response)


@pytest.mark.parametrize("path", ["/w/new", "/healthz"])  # refused before or after the user is looked up
def test_an_error_page_keeps_the_signed_in_header(owner, client, people, path):
    page = owner.post(path, data={}, csrf=path != "/w/new").get_data(as_text=True)
    assert 'aria-label="Account"' in page and "Olga Owner" in page and "Log out" in page
    anonymous = client.post("/w/new", data={}, csrf=False)
    assert anonymous.status_code == 400 and "Log out" not in anonymous.get_data(as_text=True)


def test_a_wrong_method_is_explained_not_blamed_on_the_server(owner):
    response = owner.post("/healthz")  # a GET-only route
    assert response.status_code == 405
    assert "does not take that kind of request" in text(response)
    assert "on our side" not in text(response)


def test_an_oversized_upload_gets_a_friendly_413(owner, people):
    response = owner.post(f"/w/{people['workspace']}/import", data=b"x" * (1024 * 1024 + 1),
                          content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    assert "larger than this server accepts" in text(response)


def test_upload_fields_state_the_limit_the_server_is_configured_with(app, owner, people):
    """The 413 page cannot name the file (the body is refused unread): the form states the limit,
    and carries it for app.js to check the chosen file's size before sending it."""
    page = owner.get(f"/w/{people['workspace']}/import")
    assert "At most 1 MiB." in text(page)
    assert 'data-max-bytes="1048576"' in page.text and 'accept=".json,.yaml,.yml,application/json"' in page.text
    app.config["MAX_CONTENT_LENGTH"] = 3 * 1024 * 1024 // 2
    assert "At most 1.5 MiB." in text(owner.get(f"/w/{people['workspace']}/import"))
    refused = owner.post(f"/w/{people['workspace']}/import", data=b"x" * (2 * 1024 * 1024),
                         content_type="multipart/form-data; boundary=x")
    assert refused.status_code == 413 and "larger than this server accepts (1.5 MiB)" in text(refused)


@pytest.mark.parametrize(("size", "shown"), [(1024 * 1024, "1 MiB"), (512 * 1024, "512 KiB"),
                                             (5 * 1024 * 1024 + 1, "5 MiB"), (1000, "1000 bytes")])
def test_file_sizes_read_as_people_write_them(size, shown):
    assert file_size(size) == shown


def test_a_form_of_too_many_fields_gets_a_413_before_it_is_parsed(app, people, client):
    """Found by probing: Werkzeug limits the parts of a multipart form (MAX_FORM_PARTS) but not the
    fields of a URL-encoded one, whose 340,000 empty fields fit in 1 MiB and took 1.7 s of a
    worker's CPU to parse, for anyone, before the CSRF check. Past the limit: 413, at once."""
    crowded = "&".join(["a="] * (security.MAX_FORM_FIELDS + 1))
    response = client.post("/login", data=crowded, content_type="application/x-www-form-urlencoded", csrf=False)
    assert response.status_code == 413
    assert "more fields than this server accepts" in text(response)
    fewer = "&".join(["a="] * security.MAX_FORM_FIELDS)
    assert client.post("/login", data=fewer, content_type="application/x-www-form-urlencoded",
                       csrf=False).status_code == 400  # no CSRF token: refused as any form without one


def test_a_host_outside_trusted_hosts_gets_a_400_page(tmp_path, monkeypatch, caplog):
    """Found by a closing note: with Flask's TRUSTED_HOSTS set, a request naming another host left
    Flask without URLs to build, and the error page, building its links, answered 500."""
    monkeypatch.setenv("SOVREADY_TRUSTED_HOSTS", '["sovready.example.org"]')
    caplog.set_level("INFO", logger="sovready.security")
    app = create_app({}, instance_path=tmp_path / "instance")  # not TESTING: the server's error path
    client = app.test_client()
    for response in (client.get("/login", headers={"Host": "attacker.example"}),
                     client.post("/login", headers={"Host": "attacker.example"}, data={"email": OWNER}),
                     client.get("/static/app.css", headers={"Host": "attacker.example"})):
        assert response.status_code == 400
        assert "This server does not answer to the address" in text(response) and 'href="/login"' in text(response)
    assert client.get("/setup", headers={"Host": "sovready.example.org"}).status_code == 200  # a fresh instance
    refused = [r.getMessage() for r in caplog.records if r.name == "sovready.security"]
    assert refused == [f"refused address=127.0.0.1 path={path} status=400 user=None"
                       for path in ("/login", "/login", "/static/app.css")]


def test_an_unexpected_error_renders_the_error_page_without_a_traceback(tmp_path, caplog):
    app = create_app({}, instance_path=tmp_path / "instance")
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    app.before_request_funcs[None].clear()  # reach the route without an account
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in text(response) and "ZeroDivisionError" not in text(response)
    # The operator's side: the traceback, which the page does not show, is logged (it was not).
    logged = [r for r in caplog.records if r.name == app.logger.name]
    assert logged and logged[0].getMessage() == "Exception on /boom [GET]"
    assert logged[0].exc_info[0] is ZeroDivisionError


def test_the_error_page_renders_when_the_database_itself_fails(tmp_path):
    """The error page looks up who is signed in, for its header: when the database is what failed,
    that lookup fails too, and the page must still render, as for someone signed out."""
    app = create_app({}, instance_path=tmp_path / "instance")  # not TESTING: the server's error path
    Path(app.config["DATABASE"]).write_bytes(b"not a database at all" * 1000)  # replaced while it runs
    response = app.test_client().get("/login")
    assert response.status_code == 500
    page = text(response)
    assert "Something went wrong on our side" in page and 'href="/login"' in page
    assert "DatabaseError" not in page and "not a database" not in page
