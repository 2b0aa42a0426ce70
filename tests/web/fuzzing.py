"""What every fuzz test asserts of one request: no 500, and a refusal says why and changes nothing.

``COUNT`` tallies the requests sent through ``send`` in this run; tests/web/conftest.py prints it.
"""

import os
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .conftest import text

# 60 examples per test keeps the suite quick; SOVREADY_FUZZ_EXAMPLES=1000 searches deeper, locally.
FUZZ = settings(max_examples=int(os.environ.get("SOVREADY_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
# A path segment that decodes to start or end with "/" (%2F) makes "//", which the router merges
# and redirects to (308): a made-up id may get that answer as well as a 404.
MERGED_SLASHES = 308
# Form values: free text, and the values the forms actually expect, edge cases included.
VALUES = st.one_of(st.text(max_size=300), st.sampled_from(["0", "4", "5", "-1", "n/a", "dont_know", "2.0", "",
                                                           "evidenced", "back", "europe", "critical", "\x00", " \r",
                                                           "owner", "editor", "viewer", "data", "x" * 201]))
# Made-up field names, never the CSRF field: the client posts a valid token, which a generated
# "csrf_token" key would replace (hypothesis draws string constants from the code under test).
FIELD_NAMES = st.text(max_size=20).filter(lambda name: name != "csrf_token")
COUNT = {"requests": 0, "500s": 0}
# Tables a refused request writes on purpose: failed log-ins and join codes are counted.
COUNTED = {"failures", "join_failures"}
# Figures computed from the answers that a page computing them keeps (portfolios.agency_figures, by content
# token): a GET of the dashboard or a refused form that shows it fills it, and no page shows anything else for it.
DERIVED = {"agency_figures"}


def snapshot(db, skip: frozenset[str] = frozenset()) -> dict[str, list]:
    """Every row of every table, but the failure counters, derived figures and ``skip``: what a refused
    request must leave alone."""
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if name not in COUNTED | DERIVED | skip and not name.startswith("sqlite_")]
    return {table: sorted(map(repr, db.execute(f"SELECT * FROM [{table}]").fetchall()))  # noqa: S608 (names from sqlite_master)
            for table in tables}


def refusal(client, response) -> str | None:
    """Why the app refused the request, as shown to the person; None when it accepted it."""
    body = text(response)
    if response.status_code >= 400:  # error.html's advice, or the page's own heading
        found = re.search(r'<p class="lead">(.*?)</p>', body) or re.search(r"<h1>(.*?)</h1>", body)
        return found.group(1) if found else ""
    if 'class="error-summary"' in body:
        return re.sub(r"<[^>]+>", " ", body.split('class="error-summary"', 1)[1].split("</div>", 1)[0])
    # Errors beside their fields (a form without a summary, such as the members page's invitation).
    errors = re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', body, re.DOTALL)
    errors += re.findall(r'<p class="flash error">(.*?)</p>', body)
    with client.session_transaction() as session:  # after a redirect the flash waits in the session
        errors += [message for category, message in session.pop("_flashes", []) if category == "error"]
    return " ".join(errors) if errors else None


def send(client, db, method: str, url: str, writes_on_refusal: frozenset[str] = frozenset(), **kwargs):
    """Send one fuzzed request: never a 500; if refused, a message and every table as it was, but the
    tables ``writes_on_refusal`` that this request's refusal writes on purpose."""
    before = snapshot(db, writes_on_refusal)
    COUNT["requests"] += 1
    try:
        response = getattr(client, method.lower())(url, **kwargs)  # post(): with a valid CSRF token
    except Exception:  # TESTING propagates the exception that would have been a 500
        COUNT["500s"] += 1
        raise
    response.close()
    assert response.status_code < 500, text(response)[:500]
    message = refusal(client, response)
    if message is not None:
        assert message.strip(), f"{url}: refused without a message: {text(response)[:300]}"
        assert snapshot(db, writes_on_refusal) == before, f"{url}: refused with {message!r} but the database changed"
    return response, message
