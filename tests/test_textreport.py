"""Small text helpers shared by the CLI, the pages and the PDF."""

import dataclasses

import pytest
from click.testing import CliRunner

from assessment.answers import load_answers
from assessment.cli import cli
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubric import load_rubric
from assessment.scoring import score
from assessment.textreport import _roadmap, figure, in_words, ordinal


@pytest.mark.parametrize(("names", "sentence"), [
    ([], ""), (["Talent"], "Talent"), (["Talent", "Security"], "Talent and Security"),
    (["Data", "Talent", "Security"], "Data, Talent and Security"),
])
def test_names_are_listed_as_a_sentence_lists_them(names, sentence):
    assert in_words(names) == sentence


@pytest.mark.parametrize(("value", "shown"), [
    (50.0, "50.0"), (45.32051282051282, "45.3"), (66.66666666666667, "66.7"), (42.5, "42.5"), (42.25, "42.3"),
    (15.625, "15.6"), (0.04, "0.0"), (99.96, "100.0"),
])
def test_a_score_is_written_to_one_decimal_half_up(value, shown):
    assert figure(value) == shown


def test_the_command_lines_roadmap_writes_a_priority_as_the_pages_do():
    """It wrote 3.375 where the pages, the PDF and the gaps CSV write 3.38."""
    rubric = load_rubric(DEFAULT_RUBRIC)
    result = score(rubric, load_answers(EXAMPLES / "mid-enterprise.yaml", rubric))
    gap = result.gaps[0]._replace(priority=3.375, table_stakes=False)
    lines = _roadmap(dataclasses.replace(result, gaps=(gap,)))
    assert f"  - {gap.title} ({gap.question}, level {gap.current} -> {gap.target}, priority 3.38)" in lines[2]


def test_the_text_report_says_which_critical_questions_cap_the_stage(tmp_path):
    answers = tmp_path / "capped.yaml"
    answers.write_text((EXAMPLES / "advanced-research-lab.yaml").read_text(encoding="utf-8")
                       .replace("  data.residency: 4\n", "  data.residency: 1\n", 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["score", str(answers)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].endswith("stage Developing")
    assert ("  Capped at Developing (from Leading) by critical questions at a low level: data.residency"
            in result.output.splitlines())


@pytest.mark.parametrize(("value", "shown"), [(None, "n/a"), (1.4, "1st"), (12, "12th"), (22.5, "22nd"), (103, "103rd")])
def test_a_percentile_is_written_as_an_ordinal(value, shown):
    assert ordinal(value) == shown


def test_the_text_report_on_respondent_data_leaves_out_what_only_modelled_aggregates_need(tmp_path,
                                                                                           respondent_dataset):
    """Respondent-level data is counted, not modelled, from respondents who are not said to be the
    Linux Foundation's community; with no region and no barrier marked, neither line appears."""
    dataset = respondent_dataset([["r1", "europe", "1", "0"], ["r2", "us", "0", "1"]])
    answers = tmp_path / "answers.yaml"
    answers.write_text("rubric: sovereign-ai-readiness\nanswers:\n  open_stack.open_source: 3\n"
                       "  data.open_data: 3\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["score", str(answers), "--peers", "--peer-data", str(dataset)])
    assert result.exit_code == 0, result.output
    cannot_say = next(line for line in result.output.splitlines() if "What the percentile cannot say" in line)
    assert "It ranks the organization on the linked survey figures only" in cannot_say
    assert "sampling error of a survey of 2 " in cannot_say
    assert "modelled" not in cannot_say and "Linux Foundation" not in cannot_say
    assert "  Region:" not in result.output and "Barriers you marked" not in result.output
    assert "  Overall: 100th percentile" in result.output
