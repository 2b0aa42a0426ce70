"""Hostile uploads to every importer: the answers import, the agencies' CSV and the rubric upload.

Oversized, truncated, wrongly encoded, deeply nested, or repeating an id: each is refused with a
message naming the problem, and nothing is half-written (every table is as it was). Peer data
files, which are loaded from disk rather than uploaded, are in tests/test_peer_refusals.py.
"""

import io
import json

import pytest
import yaml
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from assessment.datafile import MAX_PROBLEMS_SHOWN
from assessment.paths import DEFAULT_RUBRIC

from .conftest import text
from .fuzzing import snapshot

OVERSIZED = b"x" * (1024 * 1024 + 1)  # one byte over MAX_CONTENT_LENGTH
DEEP_LIST = b"[" * 10_000 + b"]" * 10_000
DEEP_KEY = b"? " + b"[" * 900 + b"]" * 900 + b"\n: 1\n"  # PyYAML builds keys recursively
EXPORT = (b'{"rubric": "sovereign-ai-readiness", "rubric_version": "1.0.1", "organization": "Acme",\n'
          b' "answers": {"data.residency": 3, "data.quality": {"level": 2, "note": "Audited"}}}\n')
RUBRIC = DEFAULT_RUBRIC.read_bytes()


def _rubric_with_a_repeated_question_id() -> bytes:
    data = yaml.safe_load(RUBRIC)
    questions = data["dimensions"][0]["questions"]
    questions[1]["id"] = questions[0]["id"]
    return yaml.safe_dump(data, sort_keys=False).encode()


def _rubric_linking_a_figure_the_survey_lacks() -> bytes:
    data = yaml.safe_load(RUBRIC)
    data["dimensions"][0]["questions"][1]["peer_link"] = {"finding": "approaches", "option": "Carrier pigeons"}
    return yaml.safe_dump(data, sort_keys=False).encode()


def _rubric_missing_a_level() -> bytes:
    data = yaml.safe_load(RUBRIC)
    del data["dimensions"][1]["questions"][2]["levels"][4]
    return yaml.safe_dump(data, sort_keys=False).encode()


def _upload(client, url, content: bytes, filename: str):
    # Encoded here: the test client would spool a body over 500 KiB to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": client.csrf_token(),
                                       "file": FileStorage(io.BytesIO(content), filename)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _refused(client, db, url, content, filename, status, message):
    before = snapshot(db)
    response = _upload(client, url, content, filename)
    assert response.status_code == status, text(response)[:500]
    assert message in text(response)
    assert snapshot(db) == before  # nothing half-written


BILLION_LAUGHS = ("rubric: sovereign-ai-readiness\nanswers: {strategy.mandate: {level: {a0: &a0 [lol, lol, lol], "
                  + ", ".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)) + "}}}\n").encode()
ANSWERS = {
    "oversized": (OVERSIZED, "answers.json", 413, "The upload is larger than this server accepts (1 MiB)"),
    "truncated": (EXPORT[: len(EXPORT) // 2], "answers.json", 200, "invalid JSON: Expecting"),
    "truncated YAML": (b"rubric: [sovereign", "answers.yaml", 200, "invalid YAML"),
    "utf-16": (EXPORT.decode().encode("utf-16"), "answers.json", 200, "is not UTF-8 text"),
    "latin-1": (EXPORT.replace(b"Acme", "Agência".encode("latin-1")), "answers.json", 200, "is not UTF-8 text"),
    "binary junk": (bytes(range(256)) * 4, "answers.json", 200, "is not UTF-8 text"),
    "10,000-deep list": (DEEP_LIST, "answers.json", 200, "invalid JSON: nested too deeply"),
    "10,000-deep list in YAML": (DEEP_LIST, "answers.yaml", 200, "invalid YAML: exceeded maximum nesting depth"),
    "10,000-deep answers": (b'{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": '
                            + DEEP_LIST + b"}}", "answers.json", 200, "invalid JSON: nested too deeply"),
    "900-deep key": (DEEP_KEY, "answers.yaml", 200, "invalid YAML: nested too deeply"),
    # 3**12 items through aliases of aliases; at 9**8 a 466-byte file took 2 GB of memory and 33 s.
    "billion laughs": (BILLION_LAUGHS, "answers.yaml", 200, "repeated through an alias (*name), which is not allowed"),
    "a recursive alias": (b"&a {rubric: *a}", "answers.yaml", 200, "repeated through an alias"),
    "duplicate question id": (b'{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": 1, '
                              b'"data.residency": 4}}', "answers.json", 200,
                              # It named no place: in a file of 48 answers, which one was given twice?
                              "answers.data.residency</code>: invalid JSON: duplicate key &#39;data.residency&#39;"),
    # Accepted, and scored as one: the web import and `sovready report` read answers files alike.
    "duplicate barrier": (b'{"rubric": "sovereign-ai-readiness", "barriers": ["data_quality", "data_quality"]}',
                          "answers.json", 200,
                          "barriers[1]</code>: duplicate barrier &#39;data_quality&#39; (first at barriers[0])"),
    "duplicate barrier in YAML": (b"rubric: sovereign-ai-readiness\nbarriers: [data_quality, data_quality]\n",
                                  "answers.yaml", 200, "barriers[1]</code>: duplicate barrier &#39;data_quality&#39;"),
    "NaN": (b'{"rubric": "sovereign-ai-readiness", "targets": {"data.residency": NaN}}', "answers.json", 200,
            "invalid JSON: NaN is not a number JSON allows"),
    "unknown question id": (b'{"rubric": "sovereign-ai-readiness", "answers": {"data.nothing": 1}}',
                            "answers.json", 200, "unknown question"),
    # Only 0 to 9 are digits of a level: "²" was a 500 (int() refused it), "٣" and "３" were level 3.
    **{f"the digit {digit}": (f'{{"rubric": "sovereign-ai-readiness", "answers": {{"data.residency": "{digit}"}}}}'
                              .encode(), "answers.json", 200, f"invalid answer &#39;{digit}&#39;")
       for digit in ("²", "٣", "３", "02")},
    # What the answer pages refuse, an import refused too: the page could not be saved afterwards.
    "a note over 2000 characters": (('{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": '
                                     '{"level": 2, "note": "' + "n" * 2001 + '"}}}').encode(), "answers.json", 200,
                                    "answers.data.residency.note</code>: string should have at most 2000 characters"),
    # A number past Python's limit for int() (4,300 digits) was a ValueError, a 500; it is now told at its
    # line, as a syntax error is.
    "a 5,000-digit number": (b'{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": ' + b"9" * 5000
                             + b"}}", "answers.json", 200, "invalid JSON: a number of 5000 digits (at most 1000)"),
    "a 5,000-digit number in YAML": (b"rubric: sovereign-ai-readiness\nanswers: {data.residency: " + b"9" * 5000
                                     + b"}\n", "answers.yaml", 200, "line 2, column 27</code>: invalid YAML: a "
                                     "number of 5000 digits (at most 1000)"),
    # YAML read it as a date: one that does not exist was a ValueError, a 500; one that does was shown as
    # "invalid answer datetime.date(2019, 1, 1)".
    "a date as an answer": (b"rubric: sovereign-ai-readiness\nanswers: {data.residency: 2019-02-30}\n",
                            "answers.yaml", 200, "answers.data.residency</code>: invalid answer &#39;2019-02-30&#39;"),
    # It said where as 'in "&lt;unicode string&gt;", position 30' on a line of its own.
    "a control character": (b"rubric: sovereign-ai-readiness\x00\n", "answers.yaml", 200,
                            "line 1, column 31</code>: invalid YAML: control character #x0000 is not allowed"),
    # Both were told "line 1, column 1: invalid JSON: Expecting value".
    "an empty file": (b" \n", "answers.json", 200, "<li>is empty</li>"),
    "YAML in a .json file": (b"rubric: sovereign-ai-readiness\n", "answers.json", 200,
                             "invalid JSON: Expecting value (the file does not begin as JSON does, with { or [; "
                             "a YAML file must be named .yaml or .yml)"),
    "an organization over 200 characters": (('{"rubric": "sovereign-ai-readiness", "organization": "'
                                             + "O" * 201 + '"}').encode(), "answers.json", 200,
                                            "organization</code>: string should have at most 200 characters"),
}


@pytest.mark.parametrize("content, filename, status, message", ANSWERS.values(), ids=ANSWERS.keys())
def test_a_hostile_answers_file_is_refused(owner, people, db, content, filename, status, message):
    _refused(owner, db, f"/w/{people['workspace']}/import", content, filename, status, message)


def test_a_file_of_10000_problems_is_told_by_its_first_hundred_and_a_count(owner, people, db):
    """Every problem was listed: 10,000 unknown question ids made a page of 10,000 lines (a 1 MiB
    upload, some 50,000), and as many lines from the command line."""
    document = json.dumps({"rubric": "sovereign-ai-readiness",
                           "answers": {f"data.made_up_{i}": 2 for i in range(10_000)}}).encode()
    before = snapshot(db)
    page = text(_upload(owner, f"/w/{people['workspace']}/import", document, "answers.json"))
    assert page.count("<li><code>answers.data.made_up_") == MAX_PROBLEMS_SHOWN
    assert "<li><code>answers.data.made_up_99</code>: unknown question</li>" in page
    assert "<li>and 9,900 more problems</li>" in page
    assert snapshot(db) == before


CSV_HEADER = b"name,type,size,contact\n"
AGENCIES = {
    "oversized": (CSV_HEADER + OVERSIZED, 413, "The upload is larger than this server accepts (1 MiB)"),
    "cut mid-row": (CSV_HEADER + b"Tax office,agency,large,it@tax.example\nHealth ministry,minis", 200,
                    "Line 3: expected 4 columns, found 2"),
    "cut inside a quote": (CSV_HEADER + b'Tax office,agency,large,\n"Health ministry,ministry', 200,
                           "Line 3: expected 4 columns, found 1"),
    # UTF-16 with its BOM is read (Excel's "Unicode text"), unless cut in the middle of a character.
    "utf-16 cut mid-character": ((CSV_HEADER + b"Tax office,agency,large,\n").decode().encode("utf-16")[:-1], 200,
                                 "the file is not UTF-8 text"),
    "latin-1": (CSV_HEADER + "Agência,agency,large,\n".encode("latin-1"), 200, "the file is not UTF-8 text"),
    "binary junk": (bytes(range(256)) * 4, 200, "the file is not UTF-8 text"),
    "a field over the csv limit": (CSV_HEADER + b'"' + b"x" * 200_000 + b'",a,b,\n', 200,
                                   "the file cannot be read as CSV"),
    "duplicate name": (CSV_HEADER + b"Tax office,a,b,\nTAX OFFICE,a,b,\n", 200,
                       "Line 3: &#39;TAX OFFICE&#39; is already on line 2"),
    "header only": (CSV_HEADER, 200, "the file lists no agencies below its header"),
}


@pytest.mark.parametrize("content, status, message", AGENCIES.values(), ids=AGENCIES.keys())
def test_a_hostile_agency_file_is_refused(owner, portfolio, db, content, status, message):
    _refused(owner, db, f"/portfolios/{portfolio}/agencies/upload", content, "agencies.csv", status, message)


RUBRICS = {
    "oversized": (OVERSIZED, 413, "The upload is larger than this server accepts (1 MiB)"),
    "truncated": (RUBRIC[: len(RUBRIC) // 2], 200, "rubric.yaml cannot be used"),
    "utf-16": (RUBRIC.decode().encode("utf-16"), 200, "is not UTF-8 text"),
    "latin-1": (RUBRIC.replace(b"title:", "title: Agência".encode("latin-1"), 1), 200, "is not UTF-8 text"),
    "binary junk": (bytes(range(256)) * 4, 200, "is not UTF-8 text"),
    "10,000-deep list": (DEEP_LIST, 200, "invalid YAML: exceeded maximum nesting depth"),
    "900-deep key": (DEEP_KEY, 200, "invalid YAML: nested too deeply"),
    "a list as a key": (b"id: a\n? [a, b]\n: 1\n", 200, "invalid YAML: found unhashable key"),
    "duplicate key": (RUBRIC + b"\ntitle: again\n", 200, "duplicate key &#39;title&#39;"),
    "duplicate question id": (_rubric_with_a_repeated_question_id(), 200, "duplicate id &#39;"),
    "a level missing": (_rubric_missing_a_level(), 200,
                        "<code>dimensions[1].questions[2].levels</code>: must define levels 0 to 4 (missing 4)"),
    "a link to a figure the survey lacks": (_rubric_linking_a_figure_the_survey_lacks(), 200,
                                            "<code>dimensions[0].questions[1].peer_link</code>: no figure "
                                            "&#39;approaches&#39; / &#39;Carrier pigeons&#39; in peer dataset"),
    "a 5,000-digit weight": (RUBRIC.replace(b"weight: 3", b"weight: " + b"3" * 5000, 1), 200,
                             "invalid YAML: a number of 5000 digits (at most 1000)"),
    "a date that does not exist": (RUBRIC.replace(b"version: 1.0.1", b"version: 2026-02-30", 1), 200,
                                   "<code>version</code>: must be a version of three numbers"),
    "an id with path characters": (RUBRIC.replace(b"id: sovereign-ai-readiness", b"id: ../../sovereign", 1), 200,
                                   "<code>id</code>: must be lowercase letters, digits"),
}


@pytest.mark.parametrize("content, status, message", RUBRICS.values(), ids=RUBRICS.keys())
def test_a_hostile_rubric_is_refused(owner, db, content, status, message):
    _refused(owner, db, "/admin/rubrics", content, "rubric.yaml", status, message)
