"""The command line: validate, score, and plain errors with exit status 2."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assessment.cli import cli
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubric import MAX_WEIGHT

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
    ("rubric: sovereign-ai-readiness\ntargets: {data.residency: true}\n",
     "answers.yaml: targets.data.residency: input should be a valid integer"),
    ("rubric: sovereign-ai-readiness\nanswers:\n  strategy.objectives: {level: 2, basis: guessed}\n",
     "answers.yaml: answers.strategy.objectives.basis: input should be 'self_assessed' or 'evidenced'"),
    # A mapping key of the wrong type was reported as "answers[5].[key]".
    ("rubric: sovereign-ai-readiness\nanswers:\n  5: 2\n", "answers.yaml: answers: key 5: input should be a valid string"),
])
def test_bad_answers_print_one_plain_sentence_and_exit_2(tmp_path, text, message):
    path = tmp_path / "nothere.yaml" if text is None else _broken(tmp_path, text)
    result = run("score", path)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.splitlines()) == 1, "one problem, one line (not a union's three)"
    assert "Traceback" not in result.output


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
