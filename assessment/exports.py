"""An assessment as files: the answers document (JSON) and CSV tables of answers and gaps; the
digest that caches key such content by. Pure."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from .answers import AnswerSet
from .benchmark import PeerComparison
from .rubric import Rubric
from .scoring import Gap, Result
from .textreport import priority_figure

# A spreadsheet runs a cell that starts with one of these as a formula (tab and carriage return
# too, as some programs strip them first); a leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# On every row of a CSV export, last: rows of rounds on two versions, pasted into one sheet, stay apart.
VERSION_COLUMNS = ["rubric", "rubric_version"]


def answers_document(answers: AnswerSet) -> dict:
    """The answers-file format (docs/answers-format.md) with every answer in its long form.

    ``sovready score`` and the web import both read it back unchanged.
    """
    return {
        "rubric": answers.rubric, "rubric_version": answers.rubric_version, "title": answers.title,
        "organization": answers.organization, "profile": dict(answers.profile),
        "drivers": dict(answers.drivers), "barriers": list(answers.barriers), "targets": dict(answers.targets),
        "answers": {qid: {"level": a.value, "basis": a.basis, "note": a.note}
                    for qid, a in answers.answers.items()},
    }


def content_digest(content) -> str:
    """The SHA-256 of JSON-able content, stable across runs: what cached PDFs and pages are keyed by."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def safe_cell(value):
    """A CSV cell that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def answers_csv(rubric: Rubric, answers: AnswerSet) -> str:
    """One row per question in rubric order; unanswered questions have an empty answer. The target is
    the one gaps are measured to: the organization's own, else the rubric's."""
    rows = []
    for dimension in rubric.dimensions:
        for question in dimension.questions:
            answer = answers.answers.get(question.id)
            target = answers.targets.get(question.id) or question.target or rubric.default_target
            rows.append([dimension.id, question.id, question.title, "" if answer is None else answer.value,
                         answer.basis if answer else "", answer.note if answer else "", target, rubric.id,
                         rubric.version])
    return _csv(["dimension", "question", "title", "answer", "basis", "note", "target", *VERSION_COLUMNS], rows)


# After the version columns, as they came later: a sheet that reads columns by position keeps working.
STAKES_COLUMNS = ["stakes_figure", "stakes_share", "stakes_confidence", "stakes_sources", "stakes_region"]


def gaps_csv(result: Result) -> str:
    """One row per gap, highest priority first."""
    rows = [[priority_figure(g.priority), g.horizon, g.dimension, g.question, g.title, g.current, g.target,
             g.critical, g.table_stakes, g.evidence_gap, g.next_step, result.rubric, result.rubric_version,
             *_stakes_cells(g, result.peers)]
            for g in result.gaps]
    return _csv(["priority", "horizon", "dimension", "question", "title", "current", "target", "critical",
                 "table_stakes", "evidence_gap", "next_step", *VERSION_COLUMNS, *STAKES_COLUMNS], rows)


def _stakes_cells(gap: Gap, peers: PeerComparison | None) -> list[str]:
    """The survey figure behind a table stake as the results page and the PDF word it, then its share,
    confidence, sources and region (where the regional share was used) apart, for a spreadsheet to sort
    and filter by; empty cells for any other gap."""
    if not gap.table_stakes:
        return [""] * len(STAKES_COLUMNS)
    item = peers.item(gap.question)
    return [peers.stakes_figure(gap.question), f"{item.share:g}", item.confidence, ", ".join(item.sources),
            peers.region_of(item)]


AUDIT_COLUMNS = ("at", "actor", "user_id", "action", "assessment_id", "assessment", "subject", "detail")


def audit_csv(entries: list[dict]) -> str:
    """The audit log, newest first, as ``audit.entries`` gives it; names and details are made formula-safe."""
    rows = [[e["at"], e["actor"], e["user_id"], e["action"], e["assessment_id"], e["title"], e["subject"],
             e["detail"]] for e in entries]
    return _csv(list(AUDIT_COLUMNS), rows)
