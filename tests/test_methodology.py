"""docs/methodology.md's worked example, recomputed from the document's own numbers."""

import re
from pathlib import Path

import pytest
import yaml

from assessment.answers import Answer, AnswerSet
from assessment.rubric import Rubric
from assessment.scoring import score

DOC = Path(__file__).resolve().parent.parent / "docs" / "methodology.md"


def _example() -> dict:
    block = re.search(r"```yaml worked-example\n(.*?)```", DOC.read_text(), re.S)
    assert block, "the worked example block is missing from docs/methodology.md"
    return yaml.safe_load(block.group(1))


def _question(spec: dict) -> dict:
    return {"id": spec["id"], "title": spec["id"], "text": f"{spec['id']}?", "weight": spec["weight"],
            "critical": spec.get("critical", False), "drivers": spec.get("drivers", []),
            "levels": {i: f"level {i}" for i in range(5)},
            "next_steps": {i: {"action": f"raise {spec['id']}", "horizon": "now" if i < 2 else "next"}
                           for i in range(4)}}


def _rubric(example: dict, shipped: Rubric) -> Rubric:
    data = shipped.model_dump(include={"id", "version", "title", "source", "default_target",
                                       "default_importance", "importance", "stages", "weakest_link",
                                       "drivers"})
    for driver in data["drivers"]:
        driver["peer_link"] = None
    data["dimensions"] = [{"id": d["id"], "title": d["id"], "questions": [_question(q) for q in d["questions"]]}
                          for d in example["dimensions"]]
    return Rubric.model_validate(data)


def _answers(example: dict) -> AnswerSet:
    given = {q["id"]: Answer(q["answer"]) for d in example["dimensions"] for q in d["questions"] if "answer" in q}
    return AnswerSet(answers=given, drivers=example["drivers"])


def test_worked_example_matches_the_engine(rubric):
    example = _example()
    expected = example["expected"]
    result = score(_rubric(example, rubric), _answers(example))
    assert {d.id: d.score for d in result.dimensions} == pytest.approx(expected["dimensions"])
    assert {d.id: d.completeness for d in result.dimensions} == pytest.approx(expected["completeness"])
    assert result.overall == pytest.approx(expected["overall"])
    assert (result.uncapped_stage, result.stage) == (expected["uncapped_stage"], expected["stage"])
    assert list(result.capped_by) == expected["capped_by"]
    assert {g.question: g.priority for g in result.gaps} == expected["gaps"]
    assert list(result.evidence_gaps) == expected["evidence_gaps"]
    assert list(result.unanswered) == expected["unanswered"]


# Survey figures in the documentation ------------------------------------------------------------

ROOT = DOC.parent.parent
# The pages that explain the survey peers: every percentage on them is a survey figure (or the
# table-stakes threshold, or a 95% margin), so each must be published and carry its mark.
SURVEY_PAGES = ["README.md", "docs/methodology.md", "docs/cli.md", "docs/peer-data.md"]
MARKED = re.compile(r"\d+(?:\.\d+)?% \([ABC];[^)]*\)")


@pytest.mark.parametrize("page", SURVEY_PAGES)
def test_survey_pages_state_only_published_figures_each_with_its_mark(page, published_only):
    """docs/methodology.md gave "U.S. 90%", "93%" and "58%, from a third-party source, S9" without the
    confidence and sources every figure carries wherever it is shown."""
    published_only((ROOT / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")))
def test_every_marked_figure_in_the_docs_is_the_dataset_s(page, peers):
    """docs/report.md showed "72% (A; S1, S2)": data control's figure is (A; S1, S2, S3)."""
    marked = {f"{pct:g}% ({figure.mark()})" for _, figure in peers.figures()
              for pct in [figure.overall_pct, *figure.region_pct.values()]}
    text = " ".join((ROOT / page).read_text(encoding="utf-8").split())
    assert [f for f in MARKED.findall(text) if f not in marked] == []
