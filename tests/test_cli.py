"""The command line: validate, score, and plain errors with exit status 2."""

import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assessment.cli import cli
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubric import MAX_WEIGHT
from bench.web import free_port

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_rubric_validate_prints_a_summary_and_exits_0():
    result = run("rubric", "validate", DEFAULT_RUBRIC)
    assert result.exit_code == 0
    assert "OK sovereign-ai-readiness 1.0.1: 8 dimensions, 48 questions" in result.output


def test_rubric_validate_prints_every_problem_and_exits_2(write_rubric):
    def edit(data):
        data["dimensions"][2]["questions"][4]["weight"] = 0
        data["version"] = "one"
    result = run("rubric", "validate", write_rubric(edit))
    assert result.exit_code == 2
    # As docs/cli.md shows it: the bound as the rubric format states it, not pydantic's "> 0.0".
    assert "rubric.yaml: dimensions[2].questions[4].weight: must be > 0\n" in result.output
    assert "rubric.yaml: version:" in result.output
    assert "Traceback" not in result.output


def test_weights_and_factors_at_their_bound_score_to_finite_json(write_rubric):
    """The bound keeps every sum finite: 1e308 printed "overall": Infinity, which is not JSON."""
    def edit(data):
        for dimension in data["dimensions"]:
            dimension["weight"] = MAX_WEIGHT
            for question in dimension["questions"]:
                question["weight"] = MAX_WEIGHT
        for importance in data["importance"]:
            importance["factor"] = MAX_WEIGHT
        data["table_stakes"]["factor"] = MAX_WEIGHT
    rubric_path = write_rubric(edit)
    result = run("score", EXAMPLES / "mid-enterprise.yaml", "--rubric", rubric_path, "--peers", "--format", "json")
    data = json.loads(result.output, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert 0 <= data["overall"] <= 100 and all(g["priority"] < 1e12 for g in data["gaps"])
    assert run("score", EXAMPLES / "mid-enterprise.yaml", "--rubric", rubric_path, "--peers").exit_code == 0


def test_three_examples_ship_and_rank_early_mid_advanced():
    assert [p.name for p in EXAMPLE_FILES] == [
        "advanced-research-lab.yaml", "early-public-agency.yaml", "mid-enterprise.yaml"]
    overall = {p.stem: json.loads(run("score", p, "--format", "json").output)["overall"] for p in EXAMPLE_FILES}
    assert overall["early-public-agency"] < overall["mid-enterprise"] < overall["advanced-research-lab"]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_examples_are_complete_answers(path, rubric):
    data = json.loads(run("score", path, "--format", "json").output)
    assert data["unanswered"] == []
    assert all(d["completeness"] == 1 for d in data["dimensions"])


def test_score_text_names_organization_index_stage_and_roadmap():
    result = run("score", EXAMPLES / "mid-enterprise.yaml")
    assert result.exit_code == 0
    assert "Nordwind Insurance Group (example)" in result.output
    assert "Overall readiness: 45.3 / 100, stage Developing" in result.output
    assert "Now (within 3 months):" in result.output


def test_score_json_has_the_documented_shape():
    result = run("score", EXAMPLES / "early-public-agency.yaml", "--format", "json")
    data = json.loads(result.output)
    assert data["stage"] == "unprepared"
    assert [d["id"] for d in data["dimensions"]][:2] == ["strategy", "data"]
    gap = data["gaps"][0]
    assert set(gap) >= {"question", "current", "target", "priority", "next_step", "horizon"}
    assert data["evidence_gaps"] == ["data.quality", "security.geopolitical_risk"]


def _broken(tmp_path, text):
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    (None, "nothere.yaml: no such file"),
    ("rubric: [unclosed\n", "answers.yaml: line 2, column 1: invalid YAML"),
    ("rubric: sovereign-ai-readiness\nanswers:\n  data.weather: 2\n",
     "answers.yaml: answers.data.weather: unknown question"),
    ("rubric: sovereign-ai-readiness\nanswers:\n  data.residency: 7\n",
     "answers.yaml: answers.data.residency: invalid answer 7"),
    ("rubric: sovereign-ai-readiness\nprofile:\n  region: mars\n",
     "answers.yaml: profile.region: unknown option 'mars'"),
    ("rubric: other-framework\n", "answers.yaml: rubric: answers are for rubric 'other-framework'"),
    ("answers: {}\n", "answers.yaml: rubric: is required"),
    # YAML's booleans and floats were coerced: yes and true scored as level 1, 3.0 as 3.
    *[(f"rubric: sovereign-ai-readiness\nanswers:\n  strategy.objectives: {value}\n",
       f"answers.yaml: answers.strategy.objectives: invalid answer {shown}: use a level 0 to 4, 'n/a' or 'dont_know'")
      for value, shown in [("yes", "True"), ("{level: true}", "True"), ("{level: 3.0}", "3.0"),
                           ("3.0", "3.0"), ("", "None"), ("2.5", "2.5"), ("[2]", "[2]")]],
    *[(f"rubric: sovereign-ai-readiness\ntargets: {{data.residency: {value}}}\n",
       f"answers.yaml: targets.data.residency: invalid target {shown}: use a level 1 to 4")
      for value, shown in [("true", "True"), ("3.0", "3.0"), ("0", "0"), ("'n/a'", "'n/a'"), ("high", "'high'")]],
    ("rubric: sovereign-ai-readiness\nanswers:\n  strategy.objectives: {level: 2, basis: guessed}\n",
     "answers.yaml: answers.strategy.objectives.basis: input should be 'self_assessed' or 'evidenced'"),
    # A traceback (int() refuses over 4,300 digits; a 30 February is no date), Python's words for a date
    # ("invalid answer datetime.date(2019, 1, 1)"), or the place given as 'in "<unicode string>",
    # position 30' on a second line.
    ("rubric: sovereign-ai-readiness\nanswers:\n  data.residency: " + "9" * 5000 + "\n",
     "answers.yaml: line 3, column 19: invalid YAML: a number of 5000 digits (at most 1000)"),
    ("rubric: sovereign-ai-readiness\norganization: 2019-02-30\nanswers: {data.residency: 2019-01-01}\n",
     "answers.yaml: answers.data.residency: invalid answer '2019-01-01': use a level 0 to 4"),
    ("rubric: sovereign-ai-readiness\ntitle: a\x07b\n",
     "answers.yaml: line 2, column 9: invalid YAML: control character #x0007 is not allowed"),
    ("\n\n", "answers.yaml: is empty"),
    # A mapping key of the wrong type was reported as "answers[5].[key]".
    ("rubric: sovereign-ai-readiness\nanswers:\n  5: 2\n", "answers.yaml: answers: key 5: input should be a valid string"),
    # A repeated barrier was accepted and scored once, without a word.
    ("rubric: sovereign-ai-readiness\nbarriers: [data_quality, vendor_lock_in, data_quality]\n",
     "answers.yaml: barriers[2]: duplicate barrier 'data_quality' (first at barriers[0])"),
    # An unknown one is named at its place in the list too (it was "barriers").
    ("rubric: sovereign-ai-readiness\nbarriers: [data_quality, weather]\n",
     "answers.yaml: barriers[1]: unknown barrier 'weather'"),
    # An answer, a driver or a target given twice for one id is a repeated key, refused where it is.
    ("rubric: sovereign-ai-readiness\nanswers:\n  data.residency: 1\n  data.residency: 4\n",
     "answers.yaml: line 4, column 3: invalid YAML: duplicate key 'data.residency'"),
    ("rubric: sovereign-ai-readiness\ndrivers: {data_control: high, data_control: low}\n",
     "answers.yaml: line 2, column 31: invalid YAML: duplicate key 'data_control'"),
    ("rubric: sovereign-ai-readiness\nprofile:\n  colour: blue\n", "answers.yaml: profile.colour: unknown profile field"),
    ("rubric: sovereign-ai-readiness\ndrivers:\n  weather: critical\n", "answers.yaml: drivers.weather: unknown driver"),
    ("rubric: sovereign-ai-readiness\ntargets:\n  data.weather: 3\n", "answers.yaml: targets.data.weather: unknown question"),
])
def test_bad_answers_print_one_plain_sentence_and_exit_2(tmp_path, text, message):
    path = tmp_path / "nothere.yaml" if text is None else _broken(tmp_path, text)
    result = run("score", path)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.splitlines()) == 1, "one problem, one line (not a union's three)"
    assert "Traceback" not in result.output


def test_an_answers_file_the_system_cannot_open_is_named_with_the_systems_reason(tmp_path):
    """Not a missing file or a folder: here a symbolic link to itself (a file without read
    permission is the common case, but root, who runs the tests in CI, may read any)."""
    loop = tmp_path / "answers.yaml"
    loop.symlink_to(loop)
    result = run("score", loop)
    assert (result.exit_code, result.stderr) == (2, "Error: answers.yaml: cannot be read (Too many levels of "
                                                    "symbolic links)\n")


@pytest.mark.parametrize("command", [["score"], ["report", "-o", "report.pdf"], ["rubric", "validate"],
                                     ["peers", "validate"], ["peers", "show", "--peer-data"]])
def test_a_json_number_of_5000_digits_is_refused_in_one_line_by_every_command(tmp_path, command):
    """It was a traceback: Python's int() refuses over 4,300 digits."""
    path = tmp_path / "numbers.json"
    path.write_text('{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": ' + "9" * 5000 + "}}")
    result = run(*command, path)
    assert result.exit_code == 2
    assert result.output == "Error: numbers.json: invalid JSON: a number of 5000 digits (at most 1000)\n"


def test_a_file_of_10000_problems_is_told_by_its_first_hundred_and_a_count(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text("rubric: sovereign-ai-readiness\nanswers:\n" + "".join(f"  data.x{i}: 2\n" for i in range(10_000)))
    result = run("score", path)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "Error: answers.yaml: answers.data.x0: unknown question"
    assert lines[1:] == [f"answers.yaml: answers.data.x{i}: unknown question" for i in range(1, 100)] + [
        "answers.yaml: and 9,900 more problems"]


def test_terminal_control_sequences_in_a_file_never_reach_the_terminal(tmp_path):
    """An answers file from elsewhere could retitle the terminal, or rewrite what it shows, through the
    organization's name printed by `score`, or an unknown question id printed in an error."""
    osc = "\x1b]0;owned\x07"  # sets the terminal's title; click strips only colour sequences
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"rubric": "sovereign-ai-readiness", "organization": f"Acme{osc}\r",
                                "answers": {"data.residency": 2}}))
    result = run("score", path)
    assert result.exit_code == 0
    assert result.output.startswith("Acme\ufffd]0;owned\ufffd\ufffd: rubric sovereign-ai-readiness")
    path.write_text(json.dumps({"rubric": "sovereign-ai-readiness", "answers": {f"data.{osc}": 2}}))
    result = run("score", path)
    assert result.exit_code == 2
    assert result.output == "Error: answers.json: answers.data.\ufffd]0;owned\ufffd: unknown question\n"


@pytest.mark.parametrize("document, message", [
    ('{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": 1, "data.quality": 2, "data.residency": 4}}',
     "answers.json: answers.data.residency: invalid JSON: duplicate key 'data.residency'"),
    ('{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": {"level": 1, "note": "a", "note": "b"}}}',
     "answers.json: answers.data.residency.note: invalid JSON: duplicate key 'note'"),
    ('{"rubric": "sovereign-ai-readiness", "rubric": "sovereign-ai-readiness"}',
     "answers.json: rubric: invalid JSON: duplicate key 'rubric'"),
    ('[{"a": 1}, {"b": {"c": 1, "c": 2}}]', "answers.json: [1].b.c: invalid JSON: duplicate key 'c'"),
    # Reading stops at the repeat: what follows it, refused too, leaves the key named without its place.
    ('{"a": {"b": 1, "b": 2}, "c": ', "answers.json: invalid JSON: duplicate key 'b'"),
])
def test_a_key_repeated_in_json_is_named_by_its_path(tmp_path, document, message):
    """YAML names a repeated key's line; JSON named only the key, which in an answers file is found in
    two places at least (the answer and its target)."""
    path = tmp_path / "answers.json"
    path.write_text(document)
    result = run("score", path)
    assert result.exit_code == 2
    assert result.output == f"Error: {message}\n"


def test_a_json_answers_file_saved_with_a_byte_order_mark_is_scored(tmp_path):
    path = tmp_path / "answers.json"
    path.write_bytes(b'\xef\xbb\xbf{"rubric": "sovereign-ai-readiness", "answers": {"data.residency": 2}}')
    result = run("score", path, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unanswered"] != []


def test_a_quoted_target_is_read_as_its_level_like_a_quoted_answer(tmp_path):
    def scored(targets):
        text = f"rubric: sovereign-ai-readiness\nanswers: {{data.residency: '2'}}\n{targets}"
        result = run("score", _broken(tmp_path, text), "--format", "json")
        assert result.exit_code == 0, result.output
        return result.output

    assert scored("targets: {data.residency: '4'}\n") == scored("targets: {data.residency: 4}\n") != scored("")


def test_installed_console_script_scores_an_example():
    """The real entry point, as a user runs it (not only click's test runner)."""
    exe = shutil.which("sovready", path=str(Path(sys.executable).parent))
    assert exe, "the sovready console script is not installed in this environment"
    done = subprocess.run([exe, "score", str(EXAMPLES / "advanced-research-lab.yaml"), "--format", "json"],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["stage"] == "leading"
    bad = subprocess.run([exe, "score", "missing.yaml"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == "Error: missing.yaml: no such file"


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield [*prefix, name]


def test_every_command_has_help_and_is_documented():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    for words in _commands(cli):
        result = run(*words, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output
        assert f"sovready {' '.join(words)}" in docs, words


MID = EXAMPLES / "mid-enterprise.yaml"
OLD_PDF = b"%PDF-1.7 the report written before\n" * 100


@pytest.fixture
def fast_pdf(monkeypatch):
    """The report command renders these bytes instead of the real PDF (seconds each)."""
    pdf = b"%PDF-1.7 new\n" * 1000
    monkeypatch.setattr("assessment.pdf.render_pdf", lambda report: pdf)
    return pdf


def _error(result, message):
    """The command failed with exit status 2 and this one line (no traceback)."""
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n"), result.output


@pytest.mark.parametrize("where, reason", [
    ("missing/folder/r.pdf", "No such file or directory"),
    ("a-file/r.pdf", "Not a directory"),
])
def test_report_to_a_place_that_cannot_hold_it_says_why_in_one_line(tmp_path, fast_pdf, where, reason):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / where
    _error(run("report", MID, "-o", out), f"{out}: cannot write: {reason}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_report_that_fails_midway_leaves_the_previous_one_whole(tmp_path, fast_pdf, monkeypatch):
    """Writing in place truncated the previous report before the disk filled up."""
    out = tmp_path / "r.pdf"
    out.write_bytes(OLD_PDF)

    def half_then_disk_full(path, data):
        with open(path, "wb") as file:
            file.write(data[:len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_bytes", half_then_disk_full)
    _error(run("report", MID, "-o", out), f"{out}: cannot write: No space left on device")
    assert out.read_bytes() == OLD_PDF
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]  # no partial file left


def test_report_replaces_the_previous_one_whole(tmp_path, fast_pdf):
    out = tmp_path / "r.pdf"
    out.write_bytes(OLD_PDF)
    result = run("report", MID, "-o", out)
    assert result.exit_code == 0 and result.output == f"Wrote {out} (12 KiB)\n", result.output
    assert out.read_bytes() == fast_pdf
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_report_syncs_its_content_before_the_rename_and_the_folder_after(tmp_path, fast_pdf, monkeypatch):
    """Found by a closing note: renamed before its content reached the disk, a report could be
    left whole-named but empty after a crash."""
    steps = []
    replace, fsync = os.replace, os.fsync

    def synced(fd):
        kind = os.fstat(fd)
        steps.append("folder synced" if stat.S_ISDIR(kind.st_mode) else f"{kind.st_size} bytes synced")
        fsync(fd)

    monkeypatch.setattr(os, "replace", lambda *paths: (steps.append("rename"), replace(*paths))[1])
    monkeypatch.setattr(os, "fsync", synced)
    assert run("report", MID, "-o", tmp_path / "r.pdf").exit_code == 0
    assert steps == [f"{len(fast_pdf)} bytes synced", "rename", "folder synced"]


def test_report_refuses_to_replace_what_is_not_a_regular_file(tmp_path, fast_pdf):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _error(run("report", MID, "-o", fifo), f"{fifo}: not a regular file: refusing to replace it")
    assert stat.S_ISFIFO(fifo.stat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["fifo"]


def test_report_to_dash_writes_the_pdf_to_standard_output(tmp_path, fast_pdf, monkeypatch):
    """`-o -` wrote a file named "-"; it is standard output, and ./- still names that file."""
    monkeypatch.chdir(tmp_path)
    result = run("report", MID, "-o", "-")
    assert result.exit_code == 0 and result.stdout_bytes == fast_pdf
    assert list(tmp_path.iterdir()) == []
    result = run("report", MID, "-o", "./-")
    assert result.exit_code == 0 and result.output == "Wrote ./- (12 KiB)\n"
    assert (tmp_path / "-").read_bytes() == fast_pdf


@pytest.mark.parametrize("epoch", ["abc", "1.5", "99999999999999", "-99999999999999", "9" * 30])
def test_a_source_date_epoch_that_is_no_date_is_named_in_one_line(tmp_path, fast_pdf, monkeypatch, epoch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    out = tmp_path / "r.pdf"
    _error(run("report", MID, "-o", out), f"SOURCE_DATE_EPOCH={epoch!r}: expected a whole number of seconds "
                                            "since 1970-01-01 UTC, before the year 10000")
    assert not out.exists()


@pytest.fixture
def no_serving(monkeypatch):
    """serve and worker fail the test rather than start serving or rendering (and run forever)."""
    def started(*args, **kwargs):
        raise AssertionError("started")

    for name in ("assessment.web.server.Granian", "assessment.web.server.start_report_worker",
                 "assessment.jobs.run_worker"):
        monkeypatch.setattr(name, started)


@pytest.mark.parametrize("args, message", [
    (["serve", "--port", "99999"], "Invalid value for '--port': 99999 is not in the range 1<=x<=65535."),
    (["serve", "--port", "-1"], "Invalid value for '--port': -1 is not in the range 1<=x<=65535."),
    (["serve", "--report-workers", "-1"], "Invalid value for '--report-workers': -1 is not in the range x>=0."),
    (["worker", "--workers", "0"], "Invalid value for '--workers': 0 is not in the range x>=1."),
    (["worker", "--workers", "-3"], "Invalid value for '--workers': -3 is not in the range x>=1."),
])
def test_ports_and_process_counts_out_of_range_are_refused(tmp_path, no_serving, args, message):
    """A port past 65535 was an OverflowError; 0 or fewer (PDF) workers started a queue consumer
    that never rendered anything."""
    result = run(*args, "--instance", tmp_path)
    assert result.exit_code == 2 and f"Error: {message}\n" in result.stderr, result.output


def test_serve_on_an_address_it_cannot_resolve_says_so_in_one_line(tmp_path, no_serving):
    result = run("serve", "--host", "999.1.1.1", "--instance", tmp_path, "--report-workers", 0)
    assert result.exit_code == 2 and result.stderr.startswith("Error: cannot listen on 999.1.1.1:8000: ")
    assert result.stderr.count("\n") == 1, result.output


def test_serve_on_an_address_not_of_this_machine_says_so_in_one_line(tmp_path, no_serving):
    _error(run("serve", "--host", "192.0.2.1", "--instance", tmp_path, "--report-workers", 0),
           "cannot listen on 192.0.2.1:8000: Cannot assign requested address")


def test_serve_on_a_taken_port_exits_1_in_one_line(tmp_path, no_serving):
    """Not a mistake in the command: another server holds the port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", port, "--instance", tmp_path, "--report-workers", 0)
    assert (result.exit_code, result.stderr) == (1, f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n")


def test_serve_with_an_instance_folder_it_cannot_make_says_so_in_one_line(tmp_path, no_serving):
    (tmp_path / "a-file").write_text("not a folder")
    instance = tmp_path / "a-file" / "instance"
    _error(run("serve", "--port", free_port(), "--instance", instance, "--report-workers", 0),
           f"{instance}: cannot set up the instance folder: Not a directory")


@pytest.mark.parametrize(("make", "reason"), [
    (lambda path: path.mkdir(), "unable to open database file"),
    (lambda path: path.write_bytes(b"not a database" * 100), "file is not a database"),
])
def test_serve_with_a_database_it_cannot_open_says_so_in_one_line(tmp_path, no_serving, make, reason):
    """It was sqlite3's traceback."""
    make(tmp_path / "sovready.db")
    _error(run("serve", "--port", free_port(), "--instance", tmp_path, "--report-workers", 0),
           f"{tmp_path / 'sovready.db'}: cannot open the database: {reason}")


def test_worker_with_a_missing_instance_folder_says_so(tmp_path, no_serving):
    """It was sqlite3's "unable to open database file" traceback."""
    result = run("worker", "--instance", tmp_path / "missing")
    assert result.exit_code == 2, result.output
    assert f"Error: Invalid value for '--instance': Directory '{tmp_path / 'missing'}' does not exist.\n" in result.stderr


def test_report_through_a_symbolic_link_replaces_the_file_it_names(tmp_path, fast_pdf):
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "r.pdf"
    real.write_bytes(OLD_PDF)
    link = tmp_path / "latest.pdf"
    link.symlink_to(real)
    assert run("report", MID, "-o", link).exit_code == 0
    assert link.is_symlink() and real.read_bytes() == fast_pdf
    assert [p.name for p in real.parent.iterdir()] == ["r.pdf"]


def test_peers_with_a_rubric_that_names_no_peer_dataset_asks_for_one(write_rubric):
    def edit(data):  # a framework of one's own, linked to no survey
        data.pop("peers")
        for question in (q for d in data["dimensions"] for q in d["questions"]):
            question.update(findings=[])
        for item in [*data["drivers"], *data["barriers"], *(q for d in data["dimensions"] for q in d["questions"])]:
            item.pop("peer_link", None)
    rubric_path = write_rubric(edit)
    result = run("score", EXAMPLES / "mid-enterprise.yaml", "--rubric", rubric_path, "--peers")
    assert result.exit_code == 2
    assert result.output == "Error: rubric.yaml names no peer dataset: give one with --peer-data.\n"


@pytest.mark.parametrize("args", [["serve", "--report-workers", "0"], ["worker"],
                                  ["user", "reset-password", "owner@example.org", "--password-stdin"]],
                         ids=["serve", "worker", "user"])
def test_a_setting_that_cannot_be_used_is_named_in_one_line_by_every_command(tmp_path, no_serving, monkeypatch,
                                                                             args):
    monkeypatch.setenv("SOVREADY_SESSION_HOURS", "0")
    _error(run(*args, "--instance", tmp_path), "SOVREADY_SESSION_HOURS=0: expected a whole number of at least 1")


def test_worker_whose_database_cannot_be_placed_says_so_in_one_line(tmp_path, no_serving, monkeypatch):
    """It said "File exists", as if the database were in the way, when a file stood where its folder goes."""
    (tmp_path / "a-file").write_text("not a folder")
    database = tmp_path / "a-file" / "sovready.db"
    monkeypatch.setenv("SOVREADY_DATABASE", str(database))
    _error(run("worker", "--instance", tmp_path), f"{database}: cannot open: Not a directory")


def test_worker_serves_the_queue_of_the_instance_it_is_given(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr("assessment.jobs.run_worker", lambda *args: started.append(args))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "instance").mkdir()
    assert run("worker", "--instance", "instance", "--workers", 3).exit_code == 0
    assert run("worker", "--instance", "instance", "--stop-with", 4242).exit_code == 0
    # Absolute: its processes may change folder. The database, to fail what an earlier worker left rendering.
    # The process whose exit stops it: serve's, given by serve; none given, none.
    database = str(tmp_path / "instance" / "sovready.db")
    assert started == [(str(tmp_path / "instance"), 3, database, None), (str(tmp_path / "instance"), 2, database, 4242)]


def test_backup_of_an_instance_without_a_database_says_so_and_writes_nothing(tmp_path):
    _error(run("backup", tmp_path / "copy.db", "--instance", tmp_path / "instance"),
           f"{tmp_path / 'instance' / 'sovready.db'}: no database to back up")
    assert not (tmp_path / "copy.db").exists()
