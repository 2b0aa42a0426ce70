"""docs/methodology.md's worked example, recomputed from the document's own numbers."""

import math
import re
from pathlib import Path

import pytest
import yaml

from assessment.answers import Answer, AnswerSet, load_answers
from assessment.paths import EXAMPLES
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


# The peer model, recomputed by hand from the formulas the page states ------------------------------

def _normal_share(b: float, a: float) -> float:
    """∫ φ(θ) · 1 / (1 + exp(−a (θ − b))) dθ by the midpoint rule on a fine grid: the modelled share
    at the linked level, computed apart from peermodel's 121-point grid."""
    step = 0.004
    thetas = [-8 + (i + 0.5) * step for i in range(4000)]
    return sum(math.exp(-t * t / 2) / math.sqrt(2 * math.pi) / (1 + math.exp(-a * (t - b))) * step for t in thetas)


def _threshold(share: float, a: float) -> float:
    low, high = -6.0, 6.0  # the share falls as b rises: bisect
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if _normal_share(middle, a) > share else (low, middle)
    return (low + high) / 2


def test_the_median_peer_of_the_documented_example_recomputed_by_hand(rubric, peers):
    """The page's example (mid-enterprise, Data sovereignty): its numbers, from its formulas alone."""
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    said = re.search(r"Data sovereignty scores (\d+) on its six questions and the median peer ([\d.]+) on its "
                     r"one linked question, on which the organization scores (\d+)", text)
    own, median, linked = float(said[1]), float(said[2]), float(said[3])
    question = next(q for q in rubric.dimensions[1].questions if q.peer_link)
    figure = peers.figure(question.peer_link.finding, question.peer_link.option)
    # P(level ≥ k | θ) = 1 / (1 + exp(−a (θ − b − (k − from_level) × s))), central a = 1.7, s = 1;
    # the median peer is θ = 0, its expected level Σ_k P(level ≥ k | 0), scored × 25.
    a, s, from_level = 1.7, 1.0, question.peer_link.from_level
    b = _threshold(figure.overall_pct / 100, a)
    expected = sum(1 / (1 + math.exp(-a * (0 - b - (k - from_level) * s))) for k in range(1, 5))
    assert expected * 25 == pytest.approx(median, abs=0.1)
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    result = score(rubric, answers, peers)
    assert (result.dimensions[1].id, result.dimensions[1].score) == ("data", own)
    assert answers.answers[question.id].value * 25 == linked == result.peers.linked_score["data"]
    assert result.peers.reference["data"] == median
