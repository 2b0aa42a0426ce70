"""A portfolio as files: CSV (one row per agency and dimension), JSON, and the PDF. No Flask here."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from . import pdf
from .answers import AnswerSet
from .benchmark import compare, linked_sources
from .exports import VERSION_COLUMNS, safe_cell
from .portfolio_stats import Summary, group_medians, unfinished
from .rubric import Rubric
from .rubrics import peers_for

HEATMAP_ROWS = 36  # a heatmap's rows on an A4 page, with the slanted dimension names and the colour key
HEATMAP_AGENCIES = 2 * HEATMAP_ROWS  # up to which the PDF draws one heatmap row per agency
CSV_HEADER = ["agency", "type", "size", "round", "dimension", "score", "answered", "total", "stage", "finished",
              *VERSION_COLUMNS]


def _cells(row: dict, round_name: str, rubric: Rubric, progress: Mapping[str, tuple[int, int]]):
    """An agency's lines. As on the dashboard, score and stage stay empty until every question is
    answered: a partial index is not the agency's result."""
    common = [row["name"], row["type"], row["size"], round_name]
    finished = "yes" if row["finished"] else "no"
    version = [rubric.id, rubric.version]
    for dimension in rubric.dimensions:
        answered, total = progress.get(dimension.id, (None, None))
        score = row["dimensions"].get(dimension.id) if row["finished"] else None
        yield [*common, dimension.id, score, answered, total, "", finished, *version]
    yield [*common, "overall", row["overall"] if row["finished"] else None, row["answered"], row["total"],
           (row["stage"] or "") if row["finished"] else "", finished, *version]


def portfolio_csv(rows: list[dict], round_name: str, rubric: Rubric,
                  progress: Mapping[str, Mapping[str, tuple[int, int]]]) -> str:
    """One row per agency and dimension, and one for its overall index; every cell formula-safe.
    ``progress``: (answered, total) per dimension of each assessment (``portfolios.dimension_progress``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        lines = _cells(row, round_name, rubric, progress.get(row["assessment_id"], {}))
        writer.writerows([safe_cell(cell) for cell in cells] for cells in lines)
    return out.getvalue()


def portfolio_document(portfolio: dict, round_name: str, rows: list[dict], filters: Mapping[str, str]) -> dict:
    """The portfolio's round as JSON: each agency's progress, index, stage and dimension scores.
    ``filters``: the type and size the rows were chosen by, so that a part is not read as the whole."""
    keys = ("name", "type", "size", "answered", "total", "finished", "overall", "stage", "dimensions")
    return {"portfolio": portfolio["name"], "rubric": portfolio["rubric_id"],
            "rubric_version": portfolio["rubric_version"], "peers": portfolio["peers"], "round": round_name,
            "filters": dict(filters), "agencies": [{key: row[key] for key in keys} for row in rows]}


def peer_reference(rubric: Rubric) -> dict:
    """The modelled median survey peer per dimension (independent of any answers), or {} without peers."""
    peers = peers_for(rubric)
    return compare(rubric, peers, AnswerSet(answers={})).reference if peers else {}


def render_html(**context) -> str:
    """The portfolio report's HTML. One heatmap row per agency stops being readable past a few pages
    (and took 28 pages and half of the render for 1,000): beyond, the heatmap is of the agencies'
    types and sizes."""
    ranking, rubric = context["summary"].ranking, context["rubric"]
    groups = group_medians(ranking, [d.id for d in rubric.dimensions]) if len(ranking) > HEATMAP_AGENCIES else []
    return pdf.environment().get_template("report/portfolio.html").render(groups=groups, heatmap_rows=HEATMAP_ROWS,
                                                                          **context)


def render_pdf(portfolio: dict, round_name: str, rubric: Rubric, summary: Summary, reference: dict,
               filters: Mapping[str, str] | None = None, round_agencies: int | None = None,
               deleted_after_closing: int = 0) -> bytes:
    """The portfolio PDF, with the reports' stylesheets, fonts and asset fetcher (nothing from the network).
    ``summary`` is over the agencies matching ``filters``, ``round_agencies`` of the whole round: the cover
    names the filters and how many of the round's agencies they leave. ``deleted_after_closing``: the
    agencies whose assessment of the round went after it closed, which the summary says. The agencies
    that have not finished are named, so that whoever files the PDF knows whom the figures leave out."""
    css, fonts = pdf.stylesheet()
    # The survey's figures are shown beside finished agencies' (as on the dashboard): cite them.
    peers = peers_for(rubric) if reference and summary.finished else None
    not_started, in_progress = unfinished(summary.rows)
    html = render_html(portfolio=portfolio, round_name=round_name, rubric=rubric, summary=summary,
                       reference=reference, peers=peers, sources=linked_sources(rubric, peers) if peers else (),
                       filters=filters or {}, round_agencies=round_agencies,
                       deleted_after_closing=deleted_after_closing, not_started=not_started,
                       in_progress=in_progress)
    document = pdf.ReportHTML(string=html, base_url=pdf.ASSET_BASE, url_fetcher=pdf.AssetFetcher())
    return document.write_pdf(stylesheets=[css], font_config=fonts, **pdf.PDF_OPTIONS)
