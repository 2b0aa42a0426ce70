"""Log-in rate limits, and what changes when the app is served over HTTPS."""

import base64
import sqlite3
import threading

from assessment import accounts, portfolios, ratelimit, workshops
from assessment.web import create_app

from .conftest import EDITOR, OWNER, PASSWORD, CSRFClient


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_wrong_passwords_are_limited_per_account(app, people, client):
    for _ in range(ratelimit.FAILURE_LIMIT):
        assert _login(client, OWNER, "wrong password, long enough").status_code == 200
    response = _login(client, OWNER, PASSWORD)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_wrong_passwords_are_limited_per_address_across_accounts(app, people, client):
    for n in range(ratelimit.FAILURE_LIMIT):
        _login(client, f"nobody{n}@example.org", "wrong password, long enough")
    assert _login(client, OWNER, PASSWORD).status_code == 429


def test_parallel_wrong_passwords_cannot_pass_the_limit_together(app, people, db):
    """Found by a closing note: each log-in checked the count, then checked the password (a slow
    hash), then counted its failure, so log-ins sent at once all passed the check before any counted.
    Threads with their own connections to the database file, as a threaded server's workers are."""
    attempts = 3 * ratelimit.FAILURE_LIMIT
    start, statuses = threading.Barrier(attempts), []

    def guess(n):
        client = app.test_client()
        start.wait()
        statuses.append(_login(client, OWNER, f"wrong password number {n}").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * ratelimit.FAILURE_LIMIT + [429] * (attempts - ratelimit.FAILURE_LIMIT)
    assert db.execute("SELECT count(*) FROM failures WHERE key = ?",
                      [f"account:{OWNER}"]).fetchone()[0] == ratelimit.FAILURE_LIMIT


def test_a_few_mistakes_do_not_lock_anyone_out(app, people, client):
    for _ in range(3):
        _login(client, OWNER, "wrong password, long enough")
    assert _login(client, OWNER, PASSWORD).status_code == 302


def test_a_guesser_cannot_lock_people_out_of_the_browsers_they_logged_in_with(app, people):
    """Found by probing: ten wrong passwords every ten minutes, from one address, kept any account
    whose email the guesser knew locked (429, the right password too) for as long as they liked.
    A browser that has logged in to the account before counts its own failures instead."""
    owner = app.test_client().login(OWNER)
    owner.post("/logout")
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(ratelimit.FAILURE_LIMIT):
        _login(guesser, OWNER, "wrong password, long enough")
    assert _login(app.test_client(), OWNER, PASSWORD).status_code == 429  # a new browser still waits
    assert _login(owner, OWNER, PASSWORD).status_code == 302
    assert _login(guesser, OWNER, PASSWORD).status_code == 429
    with owner.session_transaction() as session:
        session.clear()
    for _ in range(ratelimit.FAILURE_LIMIT):  # a known browser's own failures still count, against it
        _login(owner, OWNER, "wrong password, long enough")
    assert _login(owner, OWNER, PASSWORD).status_code == 429


def test_wrong_current_passwords_on_a_password_change_are_limited_like_log_ins(app, people, editor):
    new = "an entirely new passphrase 42"
    change = {"password": new, "confirm": new}
    for n in range(ratelimit.FAILURE_LIMIT):
        assert editor.post("/account", data={"current": f"guess {n}", **change}).status_code == 200
    assert editor.post("/account", data={"current": PASSWORD, **change}).status_code == 429
    # The guesses counted against the account: a log-in from another address waits too.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _login(elsewhere, EDITOR, PASSWORD).status_code == 429


def _behind_a_proxy(app, client_address: str):
    """A client of the app as a reverse proxy on this machine passes it on."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)
    return client


def test_behind_a_declared_proxy_the_limits_count_each_client_not_the_proxy(tmp_path, seed):
    app = create_app({"TESTING": True, "PROXIES": 1}, instance_path=tmp_path / "proxied")
    app.test_client_class = CSRFClient
    source, target = sqlite3.connect(seed[0]), sqlite3.connect(app.config["DATABASE"])
    source.backup(target)  # the web tests' people
    source.close(), target.close()
    guesser = _behind_a_proxy(app, "203.0.113.9")
    for n in range(ratelimit.FAILURE_LIMIT):
        _login(guesser, f"nobody{n}@example.org", "wrong password, long enough")
    assert _login(guesser, OWNER, PASSWORD).status_code == 429
    assert _login(_behind_a_proxy(app, "198.51.100.7"), OWNER, PASSWORD).status_code == 302  # not locked out


def test_without_a_declared_proxy_a_forwarded_address_is_ignored(app, people):
    """Else a guesser would name a new address with each guess and never be limited."""
    for n in range(ratelimit.FAILURE_LIMIT):
        _login(_behind_a_proxy(app, f"203.0.113.{n}"), f"nobody{n}@example.org", "wrong password, long enough")
    assert _login(_behind_a_proxy(app, "198.51.100.7"), OWNER, PASSWORD).status_code == 429


def test_over_https_cookies_are_secure_host_prefixed_and_hsts_is_sent(tmp_path, seed):
    app = create_app({"TESTING": True, "HTTPS": True}, instance_path=tmp_path / "https")
    app.test_client_class = CSRFClient
    client = app.test_client()
    response = client.get("/setup", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
    source, target = sqlite3.connect(seed[0]), sqlite3.connect(app.config["DATABASE"])
    source.backup(target)  # the web tests' people
    source.close(), target.close()
    client.get("/login", base_url="https://localhost")  # a session (and its CSRF token) over HTTPS
    response = client.post("/login", data={"email": OWNER, "password": PASSWORD}, base_url="https://localhost",
                           headers={"Referer": "https://localhost/login"})
    device = next(c for c in response.headers.getlist("Set-Cookie") if "device=" in c)
    assert device.startswith("__Host-device=") and "Secure" in device and "HttpOnly" in device and "Path=/" in device
    payload = device.split("=", 1)[1].split(".")[0]  # signed, not encrypted: it must not say whose it is
    assert b"owner" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_over_plain_http_there_is_no_hsts(client, people):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_security_log_records_log_ins_failures_and_refusals_without_secrets(app, people, finished, outsider, caplog):
    caplog.set_level("INFO", logger="sovready.security")
    client = app.test_client()
    _login(client, OWNER, "wrong password, long enough")
    _login(client, OWNER, PASSWORD)
    outsider.get(f"/a/{finished}/results")  # another workspace's assessment: 404
    lines = [r.getMessage() for r in caplog.records if r.name == "sovready.security"]
    assert any(line.startswith("login-failed") and "email='owner@example.org'" in line for line in lines)
    assert any(line.startswith("login ") and f"user={people['owner']}" in line for line in lines)
    assert any(line.startswith("refused") and "status=404" in line and f"/a/{finished}/results" in line
               for line in lines)
    assert not any(PASSWORD in line or "wrong password" in line for line in lines)


def test_security_log_records_password_changes_and_log_outs(owner, people, caplog):
    caplog.set_level("INFO", logger="sovready.security")
    new = "a brand new long password"
    owner.post("/account", data={"current": PASSWORD, "password": new, "confirm": new})
    owner.post("/logout")
    lines = [r.getMessage() for r in caplog.records if r.name == "sovready.security"]
    assert any(line.startswith("password-changed") and f"user={people['owner']}" in line for line in lines)
    assert any(line.startswith("logout") and f"user={people['owner']}" in line for line in lines)
    assert not any(new in line for line in lines)


def test_security_log_records_the_log_ins_of_new_accounts(app, db, people, portfolio, caplog):
    """Found by probing: an account made through an invitation or an agency's link, and the first
    administrator, were logged in without a line in the log that claims every log-in."""
    caplog.set_level("INFO", logger="sovready.security")
    newcomer = {"name": "Nina New", "password": PASSWORD, "confirm": PASSWORD}
    invitation = accounts.create_invite(db, people["workspace"], "viewer", people["owner"], 72)
    app.test_client().post(f"/invite/{invitation}", data={**newcomer, "email": "nina@example.org"})
    agency = portfolios.invite_agencies(db, portfolio, [(2, {"name": "Tax office", "type": "", "size": "",
                                                             "contact": ""})])[0].token
    app.test_client().post(f"/portfolio-invite/{agency}", data={**newcomer, "email": "tax@example.org"})
    lines = [r.getMessage() for r in caplog.records if r.name == "sovready.security"]
    for email in ("nina@example.org", "tax@example.org"):
        user = accounts.get_user_by_email(db, email)["id"]
        assert any(line.startswith("account-created ") and f"user={user}" in line for line in lines), lines


def test_security_log_never_holds_a_pending_invitation_or_join_code(app, db, people, workshop, portfolio, caplog):
    """A refusal (here a form whose session cookie was lost: 400) is just when a link is still pending."""
    caplog.set_level("INFO", logger="sovready.security")
    invitation = accounts.create_invite(db, people["workspace"], "owner", people["owner"], 72)
    agency = portfolios.invite_agencies(db, portfolio, [(2, {"name": "Tax office", "type": "ministry",
                                                             "size": "large", "contact": ""})])[0].token
    code = workshops.get_workshop(db, workshop).join_code
    client = app.test_client()
    paths = [f"/invite/{invitation}", f"/portfolio-invite/{agency}", f"/join/{code}"]
    for path in paths:
        assert client.post(path, data={}, csrf=False).status_code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "sovready.security"]
    for path in paths:
        prefix, secret = path.rsplit("/", 1)
        assert any(f"path={prefix}/[redacted] " in line for line in lines)
        assert not any(secret in line for line in lines)


def test_a_path_cannot_write_a_line_of_its_own_into_the_security_log(app, people, caplog):
    """Found by probing: /p/x%0A<forged entry> was logged with the line feed decoded, so any
    visitor could add a fake log-in (or any entry) to the log that reports probing."""
    caplog.set_level("INFO", logger="sovready.security")
    forged = "2026-01-01T00:00:00Z sovready.security login address=10.0.0.9 path=/login user=1"
    assert app.test_client().get("/p/x%0A" + forged.replace(" ", "%20")).status_code == 404
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sovready.security"]
    assert "\n" not in line and line.startswith("refused") and "path=/p/x%0A2026-01-01T00" in line


def test_security_log_timestamps_are_utc():
    import logging
    import time

    from assessment.web.security_log import _UTCFormatter

    record = logging.LogRecord("sovready.security", logging.INFO, __file__, 1, "x", None, None)
    record.created = 0.0
    assert _UTCFormatter("%(asctime)s", "%Y-%m-%dT%H:%M:%S").format(record) == "1970-01-01T00:00:00"
    assert _UTCFormatter.converter is time.gmtime


def test_behind_an_https_proxy_the_links_it_gives_out_say_https(tmp_path, seed):
    """The proxy speaks plain HTTP to the app: the invitation link must still be https://, or
    the newcomer's first request would carry the secret token unencrypted."""
    app = create_app({"TESTING": True, "HTTPS": True}, instance_path=tmp_path / "https")
    app.test_client_class = CSRFClient
    path, ids = seed
    source, target = sqlite3.connect(path), sqlite3.connect(app.config["DATABASE"])
    source.backup(target)
    source.close()
    target.close()
    client = app.test_client()  # http://localhost, as the proxy forwards each request
    from_the_site = {"Referer": "https://localhost/"}  # what a browser sends with a form over HTTPS
    assert client.post("/login", data={"email": OWNER, "password": PASSWORD}, headers=from_the_site).status_code == 302
    page = client.post(f"/w/{ids['workspace']}/members", data={"role": "editor"}, headers=from_the_site)
    assert 'value="https://localhost/invite/' in page.get_data(as_text=True)


def test_a_device_cookie_this_server_did_not_sign_counts_as_a_new_browser(app, people):
    """A forged or foreign device cookie is no browser that has logged in: it waits with the account
    once a guesser has used up its limit, instead of counting its guesses apart."""
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(ratelimit.FAILURE_LIMIT):
        _login(guesser, OWNER, "wrong password, long enough")
    forger = app.test_client()
    forger.set_cookie("device", "eyJhY2NvdW50IjoieCIsImRldmljZSI6InkifQ.forged.signature")
    assert _login(forger, OWNER, PASSWORD).status_code == 429
