"""Exports and imports: a JSON round trip, CSV without formulas, the loader's messages on refusal."""

import csv
import html
import io
import json
import re
import threading
from dataclasses import replace
from datetime import date

import pytest
from click.testing import CliRunner

from assessment import records
from assessment.answers import NAME_MAX, Answer, load_answers
from assessment.cli import cli
from assessment.exports import safe_cell
from assessment.paths import EXAMPLES
from assessment.rubrics import add_rubric
from assessment.textreport import figure

from .conftest import OWNER, csv_text, flashes, text


def _upload(client, workspace_id, content: bytes, name="answers.json", title=""):
    return client.post(f"/w/{workspace_id}/import", data={"file": (io.BytesIO(content), name), "title": title},
                       content_type="multipart/form-data")


def test_json_export_is_a_named_attachment_in_the_answers_format(owner, finished):
    response = owner.get(f"/a/{finished}/export.json")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="spring-review-')
    assert response.headers["Content-Disposition"].endswith('.json"')
    document = response.get_json()
    assert document["rubric"] == "sovereign-ai-readiness" and document["rubric_version"] == "1.0.1"
    assert len(document["answers"]) == 48
    assert set(next(iter(document["answers"].values()))) == {"level", "basis", "note"}


# Read as YAML, an export lost these: U+007F and U+FFFE were refused, U+0085 and U+2028 became spaces.
@pytest.mark.parametrize("note", ["Ünïcode note: EU only", "a \x7f b \x85 c \u2028 d \u2029 e \ufffe f"])
def test_export_then_import_gives_the_same_assessment(owner, finished, people, db, default_rubric, note):
    records.save_answers(db, records.get_assessment(db, finished), default_rubric,
                         {"data.residency": Answer(3, note, "evidenced")})
    exported = owner.get(f"/a/{finished}/export.json").get_data()
    response = _upload(owner, people["workspace"], exported)
    copy_id = response.location.split("/")[2]
    assert response.location == f"/a/{copy_id}/review"
    original, copy = records.get_assessment(db, finished), records.get_assessment(db, copy_id)
    # The export's own title (it was "Imported: <organization>"), marked: the original is still here.
    assert copy.title.startswith(f"{original.title} (imported ")
    again = json.loads(owner.get(f"/a/{copy_id}/export.json").get_data())
    assert again | {"title": original.title} == json.loads(exported)
    assert records.answer_set(db, copy) == replace(records.answer_set(db, original), title=copy.title)
    renamed = _upload(owner, people["workspace"], exported, title="Copy").location.split("/")[2]
    assert records.get_assessment(db, renamed).title == "Copy"


def _imported_on(day: date) -> str:
    return f"imported {day.day} {day:%b %Y}"


def test_importing_an_export_beside_its_original_marks_the_copys_title(owner, finished, people, db):
    """The copy had the original's title exactly: the dashboard listed two "Spring review" that
    nothing told apart. A title typed on the form is the user's choice, kept as typed."""
    exported = owner.get(f"/a/{finished}/export.json").get_data()
    before = date.today()
    copies = []
    for _ in range(3):
        copies.append(_upload(owner, people["workspace"], exported).location.split("/")[2])
        title = records.get_assessment(db, copies[-1]).title
        assert flashes(owner.get(f"/a/{copies[-1]}/review")) == [
            f"“{title}” is imported from answers.json, with 48 answers."]
    days = {before, date.today()}  # the import may straddle midnight
    titles = [records.get_assessment(db, copy).title for copy in copies]
    assert titles in [[f"Spring review ({_imported_on(day)})", f"Spring review ({_imported_on(day)}, 2)",
                       f"Spring review ({_imported_on(day)}, 3)"] for day in days]
    dashboard = text(owner.get(f"/w/{people['workspace']}"))
    assert all(f">{html.escape(title)}</a>" in dashboard for title in ["Spring review", *titles])


def test_imports_at_once_each_take_a_title_of_their_own(app, owner, finished, people, db):
    """The title was chosen from the workspace's titles before the write transaction: imports sent
    at once all saw the same titles taken and took the same mark. Threads with their own
    connections to the database file, as a threaded server's workers are."""
    exported = owner.get(f"/a/{finished}/export.json").get_data()
    imports = 6
    start, locations = threading.Barrier(imports), []

    def upload():
        client = app.test_client().login(OWNER)
        start.wait()
        locations.append(_upload(client, people["workspace"], exported).location)

    threads = [threading.Thread(target=upload) for _ in range(imports)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    titles = [records.get_assessment(db, location.split("/")[2]).title for location in locations]
    assert len(titles) == imports and len(set(titles)) == imports, titles
    typed = _upload(owner, people["workspace"], exported, title="Spring review").location.split("/")[2]
    assert records.get_assessment(db, typed).title == "Spring review"


def test_a_title_is_marked_only_when_the_workspace_has_it_already(owner, outsider, finished, people, db,
                                                                  default_rubric):
    """Another workspace's assessment of that title, or none, leaves the file's title as it is; one that
    differs only in capitals or spaces is no less confusing, and a long title is cut to fit the mark."""
    exported = owner.get(f"/a/{finished}/export.json").get_data()
    elsewhere = _upload(outsider, people["other_workspace"], exported).location.split("/")[2]
    assert records.get_assessment(db, elsewhere).title == "Spring review"
    long_title = "T" * NAME_MAX
    for title in (" spring REVIEW ", long_title):
        document = json.loads(exported) | {"title": title}
        records.update_assessment(db, records.get_assessment(db, finished), default_rubric, title=title)
        copy = _upload(owner, people["workspace"], json.dumps(document).encode()).location.split("/")[2]
        marked = records.get_assessment(db, copy).title
        assert "(imported " in marked and len(marked) <= NAME_MAX
        assert marked.startswith(title[:NAME_MAX - 30])


def test_an_export_renamed_in_letters_werkzeug_drops_is_still_read_as_json(owner, finished, people, db,
                                                                            default_rubric):
    """secure_filename made "評価.json" "json", which was then read as YAML: an export whose note held
    U+007F was refused, and the message named the file "json"."""
    records.save_answers(db, records.get_assessment(db, finished), default_rubric,
                         {"data.residency": Answer(3, "one\x7ftwo", "evidenced")})
    response = _upload(owner, people["workspace"], owner.get(f"/a/{finished}/export.json").get_data(), name="評価.json")
    assert response.status_code == 302, text(response)
    copy = records.get_assessment(db, response.location.split("/")[2])
    assert records.answer_set(db, copy).answers["data.residency"].note == "one\x7ftwo"
    assert flashes(owner.get(response.location))[0].endswith("is imported from upload.json, with 48 answers.")


def test_the_command_line_scores_an_export(owner, finished, tmp_path):
    path = tmp_path / "export.json"
    path.write_bytes(owner.get(f"/a/{finished}/export.json").get_data())
    result = CliRunner().invoke(cli, ["score", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    page = text(owner.get(f"/a/{finished}/results"))
    assert f'<span class="number">{figure(json.loads(result.output)["overall"])}</span>' in page


def test_a_yaml_answers_file_imports_too(owner, people):
    response = _upload(owner, people["workspace"], (EXAMPLES / "early-public-agency.yaml").read_bytes(),
                       name="early.yaml")
    assert response.status_code == 302
    assert "Imported: " in text(owner.get(response.location))


def test_an_import_says_what_it_created(owner, people):
    """It ended on the new assessment's review page without a word: nothing said the import worked."""
    response = _upload(owner, people["workspace"], (EXAMPLES / "early-public-agency.yaml").read_bytes(),
                       name="early.yaml", title="Baseline")
    assert flashes(owner.get(response.location)) == [
        "“Baseline” is imported from early.yaml, with 48 answers."]


@pytest.mark.parametrize("content, message", [
    (b'{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": 7}}',
     "answers.data.residency</code>: invalid answer 7"),
    (b'{"rubric": "sovereign-ai-readiness", "answers": {"data.weather": 2}}',
     "answers.data.weather</code>: unknown question"),
    (b'{"rubric": "sovereign-ai-readiness", "rubric_version": "9.0.0"}',
     "rubric sovereign-ai-readiness 9.0.0 is not installed"),
    (b'{"rubric": "other-framework"}', "answers are for rubric &#39;other-framework&#39;"),
    (b'{"rubric": [unclosed', "line 1, column 13</code>: invalid JSON: Expecting value"),
    (b"\xff\xfe not text", "is not UTF-8 text"),
    (b"[1, 2]", "must be a mapping of keys to values at the top level"),
    # Found by hostile-input probing: a rubric id or version that is not a string was a 500 (an SQL binding error).
    (b'{"rubric": ["sovereign-ai-readiness"]}', "rubric</code>: input should be a valid string"),
    (b'{"rubric": "sovereign-ai-readiness", "rubric_version": {"v": 1}}', "rubric_version</code>: input should be"),
])
def test_a_refused_import_shows_the_loaders_messages(owner, people, db, content, message):
    response = _upload(owner, people["workspace"], content)
    assert response.status_code == 200
    assert "answers.json cannot be used" in text(response) and message in text(response)
    # The file field is marked as refused and tied to the problems (left by the bad-input review).
    (field,) = re.findall(r'<input[^>]*type="file"[^>]*>', text(response))
    assert 'aria-describedby="file-help problems"' in field and 'aria-invalid="true"' in field
    assert 'id="problems"' in text(response)
    assert records.assessments_in(db, people["workspace"]) == []


def test_a_json_file_saved_with_a_byte_order_mark_imports(owner, people, db):
    """Notepad and Excel begin UTF-8 files with one; it was refused as "invalid JSON: Unexpected UTF-8
    BOM (decode using utf-8-sig)", words of Python's rather than the user's."""
    document = b'{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": 2}}'
    response = _upload(owner, people["workspace"], b"\xef\xbb\xbf" + document, title="With a mark")
    assert response.status_code == 302, text(response)
    imported = records.get_assessment(db, response.location.split("/")[2])
    assert records.answer_set(db, imported).answers == {"data.residency": Answer(2)}


def test_an_import_needs_a_file(owner, people):
    response = owner.post(f"/w/{people['workspace']}/import", data={"title": "x"})
    assert response.status_code == 200 and "This field is required." in text(response)


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralized(owner, finished, db, default_rubric, value):
    records.save_answers(db, records.get_assessment(db, finished), default_rubric,
                         {"data.residency": Answer(2, value)})
    rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{finished}/answers.csv")))))
    (row,) = [r for r in rows if r["question"] == "data.residency"]
    assert row["note"] == "'" + value
    assert safe_cell("plain text") == "plain text" and safe_cell(3) == 3


def test_answers_csv_has_every_question_and_gaps_csv_every_gap(owner, finished, empty):
    response = owner.get(f"/a/{finished}/answers.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].endswith('-answers.csv"')
    assert len(list(csv.DictReader(io.StringIO(csv_text(response))))) == 48
    gaps = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{finished}/gaps.csv")))))
    assert gaps and float(gaps[0]["priority"]) >= float(gaps[-1]["priority"])
    assert csv_text(owner.get(f"/a/{empty}/gaps.csv")).count("\n") == 1  # the header only


def test_the_csv_columns_are_the_documented_ones(owner, finished):
    """docs/web.md lists them; a reader's spreadsheet finds them by name."""
    answers = next(csv.reader(io.StringIO(csv_text(owner.get(f"/a/{finished}/answers.csv")))))
    assert answers == ["dimension", "question", "title", "answer", "basis", "note", "target", "rubric",
                       "rubric_version"]
    gaps = next(csv.reader(io.StringIO(csv_text(owner.get(f"/a/{finished}/gaps.csv")))))
    # Columns added later come last: a sheet that reads the earlier ones by position keeps working.
    assert gaps == ["priority", "horizon", "dimension", "question", "title", "current", "target", "critical",
                    "table_stakes", "evidence_gap", "next_step", "rubric", "rubric_version", "stakes_figure",
                    "stakes_share", "stakes_confidence", "stakes_sources", "stakes_region"]


def test_the_gaps_csv_gives_each_table_stakes_survey_figure_in_columns_of_its_own(owner, people, db,
                                                                                  default_rubric):
    """The CSV said table_stakes True without the figure behind it, which the results page and the
    PDF show beside the tag; its share, confidence and sources are now columns a spreadsheet sorts
    and filters by, with the region whose share was used (the early agency is in Europe)."""
    answers = load_answers(EXAMPLES / "early-public-agency.yaml", default_rubric)
    agency = records.create_assessment(db, people["workspace"], default_rubric, "Agency", answers=answers)
    rows = {row["question"]: row for row in csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{agency}/gaps.csv"))))}
    page = html.unescape(text(owner.get(f"/a/{agency}/results")))
    mandate, engagement = rows["strategy.mandate"], rows["governance.government_engagement"]
    assert mandate["stakes_figure"] == ("survey: Sovereign AI is valuable and a strategic priority: Yes, "
                                        "83% (A; S1, S2, S4) in Europe")
    assert f"({mandate['stakes_figure']})" in page  # as the results page words it
    assert [mandate[c] for c in ("stakes_share", "stakes_confidence", "stakes_sources", "stakes_region")] == [
        "83", "A", "S1, S2, S4", "Europe"]
    # All respondents' share (the survey gives no regional one for it) names no region.
    assert [engagement[c] for c in ("stakes_share", "stakes_confidence", "stakes_sources", "stakes_region")] == [
        "66", "A", "S1, S2, S3", ""]
    others = [row for row in rows.values() if row["table_stakes"] == "False"]
    assert others and all(row[c] == "" for row in others for c in (
        "stakes_figure", "stakes_share", "stakes_confidence", "stakes_sources", "stakes_region"))


def test_the_gaps_csv_has_the_results_pages_priorities_and_order(owner, finished):
    """Table stakes raise a gap's priority on the page and in the PDF: the CSV must agree."""
    page = text(owner.get(f"/a/{finished}/results"))
    shown = [(html.unescape(title), float(priority)) for priority, title in re.findall(
        r"<tr>\s*<td>([\d.]+)</td>\s*<th scope=\"row\"><a [^>]*>([^<]+)</a>", page.split('class="gaps"')[1])]
    rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{finished}/gaps.csv")))))
    assert [(row["title"], float(row["priority"])) for row in rows] == shown
    (stakes,) = [row for row in rows if row["question"] == "governance.government_engagement"]
    assert stakes["table_stakes"] == "True"


def test_a_spreadsheet_reads_the_answers_csv_with_the_targets_the_gaps_are_measured_to(owner, finished, db,
                                                                                       default_rubric):
    """The organization's own target for a question was in the JSON export only: a spreadsheet of the
    answers could not tell what a gap is measured to. Each row now has the target in force."""
    records.save_answers(db, records.get_assessment(db, finished), default_rubric, {}, targets={"data.residency": 4})
    raw = owner.get(f"/a/{finished}/answers.csv").get_data()
    assert raw.startswith("\ufeff".encode())  # the UTF-8 byte order mark spreadsheets look for
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == len(default_rubric.questions)  # one row per question
    targets = {row["question"]: row["target"] for row in rows}
    other = next(q for q in default_rubric.questions.values() if q.id != "data.residency")  # the rubric's target
    assert targets["data.residency"] == "4" and targets[other.id] == str(other.target or default_rubric.default_target)
    assert all(row["answer"].isdigit() or row["answer"] in ("not_applicable", "dont_know", "") for row in rows)


def test_the_gaps_csv_writes_priorities_as_the_pages_do(owner, finished):
    """Two decimals at most and no trailing ".0" (``textreport.priority_figure``): "3.0" in the CSV
    was "3" on the results page and in the PDF."""
    rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{finished}/gaps.csv")))))
    assert rows and all(re.fullmatch(r"\d+(\.\d{1,2})?", row["priority"]) for row in rows)
    assert not any(row["priority"].endswith(".0") for row in rows)


def test_a_title_without_letters_still_gives_a_filename(owner, db, people, default_rubric):
    assessment_id = records.create_assessment(db, people["workspace"], default_rubric, "???")
    assert 'filename="assessment-' in owner.get(f"/a/{assessment_id}/export.json").headers["Content-Disposition"]


@pytest.mark.parametrize("title, plain, own", [
    ("Évaluation « été » 2026", "evaluation-ete-2026", "%C3%A9valuation-%C3%A9t%C3%A9-2026"),
    ("Министерство цифры", "assessment", "%D0%BC%D0%B8%D0%BD%D0%B8%D1%81%D1%82%D0%B5%D1%80%D1%81%D1%82%D0%B2%D0%BE-"
                                          "%D1%86%D0%B8%D1%84%D1%80%D1%8B"),
])
def test_a_download_keeps_the_titles_own_letters(owner, db, people, default_rubric, title, plain, own):
    # Accented letters were dropped ("valuation-t-2026"), and every all-Cyrillic title gave the same name.
    assessment_id = records.create_assessment(db, people["workspace"], default_rubric, title)
    header = owner.get(f"/a/{assessment_id}/answers.csv").headers["Content-Disposition"]
    today = date.today().isoformat()
    assert header == f"attachment; filename=\"{plain}-{today}-answers.csv\"; filename*=UTF-8''{own}-{today}-answers.csv"


def test_an_import_naming_a_rubric_without_a_version_gets_its_highest_version(owner, db, people):
    """It got the version uploaded last: 1.5.0 uploaded after 2.0.0 took an import meant for the newest."""
    source = (EXAMPLES.parent / "rubric" / "sovereign-ai-readiness.yaml").read_text()
    for version in ("2.0.0", "1.5.0"):
        add_rubric(db, source.replace("id: sovereign-ai-readiness", "id: agency-readiness")
                   .replace("version: 1.0.1", f"version: {version}"), f"agency-{version}.yaml")
    document = json.dumps({"rubric": "agency-readiness", "answers": {"data.residency": {"level": 2}}}).encode()
    response = _upload(owner, people["workspace"], document, title="Versionless")
    assert response.status_code == 302, text(response)
    imported = records.get_assessment(db, response.location.split("/")[2])
    assert (imported.rubric_id, imported.rubric_version) == ("agency-readiness", "2.0.0")


@pytest.mark.parametrize("document, title", [
    (b'{"rubric": "sovereign-ai-readiness", "title": "   ", "organization": " Acme "}', ""),
    (b'{"rubric": "sovereign-ai-readiness", "organization": "Acme"}', "  \t "),
])
def test_an_import_titled_in_spaces_is_named_after_its_organization(owner, people, db, document, title):
    """Found in a review of bad input: a title of spaces, in the file or the form, was kept, and the
    workspace listed the assessment by an empty link."""
    response = _upload(owner, people["workspace"], document, title=title)
    assert response.status_code == 302, text(response)
    assert records.get_assessment(db, response.location.split("/")[2]).title == "Imported: Acme"
