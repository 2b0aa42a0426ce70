"""Small text helpers shared by the CLI, the pages and the PDF."""

import dataclasses

import pytest

from assessment.answers import load_answers
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.rubric import load_rubric
from assessment.scoring import score
from assessment.textreport import _roadmap, figure, in_words


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
