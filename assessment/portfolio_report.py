"""A portfolio as files: CSV (one row per agency and dimension), JSON, and the PDF. No Flask here."""

from __future__ import annotations

import csv
import io

from . import pdf
from .answers import AnswerSet
from .benchmark import compare
from .exports import safe_cell
from .portfolio_stats import Summary
from .rubric import Rubric
from .rubrics import peers_for

CSV_HEADER = ["agency", "type", "size", "round", "dimension", "score", "answered", "total", "stage"]


def _cells(row: dict, round_name: str, rubric: Rubric):
    common = [row["name"], row["type"], row["size"], round_name]
    for dimension in rubric.dimensions:
        yield [*common, dimension.id, row["dimensions"].get(dimension.id), row["answered"], row["total"], ""]
    yield [*common, "overall", row["overall"], row["answered"], row["total"], row["stage"] or ""]


def portfolio_csv(rows: list[dict], round_name: str, rubric: Rubric) -> str:
    """One row per agency and dimension, and one for its overall index; every cell formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerows([safe_cell(cell) for cell in cells] for cells in _cells(row, round_name, rubric))
    return out.getvalue()


def portfolio_document(portfolio: dict, round_name: str, rows: list[dict]) -> dict:
    """The portfolio's round as JSON: each agency's progress, index, stage and dimension scores."""
    keys = ("name", "type", "size", "answered", "total", "finished", "overall", "stage", "dimensions")
    return {"portfolio": portfolio["name"], "rubric": portfolio["rubric_id"],
            "rubric_version": portfolio["rubric_version"], "peers": portfolio["peers"], "round": round_name,
            "agencies": [{key: row[key] for key in keys} for row in rows]}


def peer_reference(rubric: Rubric) -> dict:
    """The modelled median survey peer per dimension (independent of any answers), or {} without peers."""
    peers = peers_for(rubric)
    return compare(rubric, peers, AnswerSet(answers={})).reference if peers else {}


def render_html(**context) -> str:
    return pdf.environment().get_template("report/portfolio.html").render(**context)


def render_pdf(portfolio: dict, round_name: str, rubric: Rubric, summary: Summary, reference: dict) -> bytes:
    """The portfolio PDF, with the reports' stylesheets, fonts and asset fetcher (nothing from the network)."""
    css, fonts = pdf.stylesheet()
    html = render_html(portfolio=portfolio, round_name=round_name, rubric=rubric, summary=summary,
                       reference=reference)
    document = pdf.ReportHTML(string=html, base_url=pdf.ASSET_BASE, url_fetcher=pdf.AssetFetcher())
    return document.write_pdf(stylesheets=[css], font_config=fonts, **pdf.PDF_OPTIONS)
