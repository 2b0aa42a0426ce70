"""The plain-text rendering of a scoring result, for people at a terminal."""

from __future__ import annotations

from .rubric import Rubric
from .scoring import Result

HORIZON_NAMES = {"now": "Now (within 3 months)", "next": "Next (3 to 12 months)",
                 "later": "Later (beyond 12 months)"}
BAR_WIDTH = 20


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _bar(value: float | None) -> str:
    filled = round((value or 0) / 100 * BAR_WIDTH)
    return "#" * filled + "." * (BAR_WIDTH - filled)


def _headline(rubric: Rubric, result: Result, organization: str) -> list[str]:
    names = {s.id: s.name for s in rubric.stages}
    lines = [f"{organization or 'Organization'}: rubric {rubric.id} {rubric.version}",
             f"Overall readiness: {_number(result.overall)} / 100, stage {names.get(result.stage, 'n/a')}"]
    if result.capped_by:
        lines.append(f"  Capped at {names[result.stage]} (from {names[result.uncapped_stage]}) by critical "
                     f"questions at a low level: {', '.join(result.capped_by)}")
    return lines


def _dimensions(result: Result) -> list[str]:
    width = max(len(d.title) for d in result.dimensions)
    lines = ["", "Dimensions:"]
    for d in result.dimensions:
        lines.append(f"  {d.title:<{width}}  {_number(d.score):>5}  {_bar(d.score)}  "
                     f"{d.answered}/{d.total} answered")
    return lines


def _roadmap(result: Result) -> list[str]:
    lines = []
    for horizon, gaps in result.roadmap().items():
        if not gaps:
            continue
        lines += ["", f"{HORIZON_NAMES[horizon]}:"]
        for gap in gaps:
            flag = " [critical]" if gap.critical else ""
            lines.append(f"  - {gap.title} ({gap.question}, level {gap.current} -> {gap.target}, "
                         f"priority {gap.priority:g}){flag}")
            lines.append(f"    {gap.next_step}")
    return lines


def render_text(rubric: Rubric, result: Result, organization: str = "") -> str:
    """The result as text: headline, dimension bars, roadmap, evidence gaps."""
    lines = _headline(rubric, result, organization) + _dimensions(result)
    lines += _roadmap(result) or ["", "No gaps: every answered question meets its target."]
    if result.evidence_gaps:
        lines += ["", f"Evidence gaps (answered don't know): {', '.join(result.evidence_gaps)}"]
    if result.unanswered:
        lines += ["", f"Unanswered questions: {len(result.unanswered)} of {len(rubric.questions)}"]
    return "\n".join(lines)
