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
