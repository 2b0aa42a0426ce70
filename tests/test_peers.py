"""The peer dataset: faithful to the report's figures, validated, and pluggable."""

import copy
import csv
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from assessment.cli import cli
from assessment.datafile import DataFileError
from assessment.paths import RUBRIC_DIR
from assessment.peers import load_peers

# A copy of ../shared/report/figures.csv, the project's record of the report's published figures.
REPORT_FIGURES = Path(__file__).parent / "data" / "report-figures.csv"
PEERS_FILE = RUBRIC_DIR / "peers" / "lf-sovereign-ai-2025.yaml"


def _number(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def test_every_report_figure_is_in_the_dataset_exactly(peers):
    with REPORT_FIGURES.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(peers.figures()) == len(rows)
    for row in rows:
        figure = peers.figure(row["finding_id"], row["option"])
        assert figure is not None, row
        assert figure.overall_pct == _number(row["overall_pct"])
        regions = {"us": row["us_pct"], "europe": row["europe_pct"], "apac": row["apac_pct"]}
        assert figure.region_pct == {r: _number(v) for r, v in regions.items() if v.strip()}, row
        assert figure.confidence == row["confidence"]
        assert figure.sources == row["sources"].split(";")


def test_dataset_carries_citation_licence_and_sample_size(peers):
    assert peers.respondents == 233
    assert "CC BY-ND 4.0" in peers.licence
    assert "Gerosa" in peers.citation and peers.publisher.startswith("LF Research")
    assert peers.label == "modelled from published aggregates (n = 233)"


def test_the_sampling_error_is_that_of_a_share_near_one_half(peers):
    standard, margin = peers.sampling_error
    assert round(standard, 2) == 3.28 and round(margin, 2) == 6.42  # 100·√(0.25/233), and 1.96 times that
    assert peers.model_copy(update={"respondents": None}).sampling_error is None


def test_a_blank_region_stays_unknown_not_zero(peers):
    figure = peers.figure("approaches", "Open source software")
    assert figure.region_pct == {}
    assert figure.share("europe") == (81, False)


def test_known_conflicts_are_recorded(peers):
    assert peers.figure("collaboration.essential", "Essential").overall_pct == 93
    assert "94%" in peers.figure("collaboration.essential", "Essential").note


def _broken(tmp_path, edit):
    data = yaml.safe_load(PEERS_FILE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "peers.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _option(data, finding=0, option=0):
    return data["findings"][finding]["options"][option]


@pytest.mark.parametrize("edit, message", [
    (lambda d: _option(d).update(overall_pct=120), "peers.yaml: findings[0].options[0].overall_pct: must be <= 100"),
    # NaN was refused as "must be <= 100"; infinity must not pass either.
    (lambda d: _option(d).update(overall_pct=float("nan")),
     "peers.yaml: findings[0].options[0].overall_pct: input should be a finite number"),
    (lambda d: _option(d)["region_pct"].update(us=float("-inf")),
     "peers.yaml: findings[0].options[0].region_pct.us: input should be a finite number"),
    (lambda d: _option(d)["region_pct"].update(mars=10),
     "peers.yaml: findings[0].options[0].region_pct.mars: unknown region 'mars'"),
    (lambda d: _option(d).update(sources=[]), "peers.yaml: findings[0].options[0].sources: list should have at least 1"),
    # A figure citing a source twice was shown as "(A; S1, S2, S1)".
    (lambda d: _option(d).update(sources=["S1", "S2", "S1"]),
     "peers.yaml: findings[0].options[0].sources[2]: duplicate source 'S1' (first at findings[0].options[0].sources[0])"),
    (lambda d: _option(d).update(sources=["S99"]), "peers.yaml: findings[0].options[0].sources: unknown source 'S99'"),
    (lambda d: _option(d).pop("confidence"), "peers.yaml: findings[0].options[0].confidence: is required"),
    (lambda d: _option(d).update(confidence="D"), "peers.yaml: findings[0].options[0].confidence: input should be"),
    (lambda d: d["confidence_levels"].pop("A"), "peers.yaml: findings[0].options[0].confidence: unknown confidence 'A'"),
    # Addresses are links in pages and the PDF: a javascript: or file: address would run or open on click.
    (lambda d: d["sources"]["S1"].update(url="javascript:alert(1)"),
     "peers.yaml: sources.S1.url: must be an http:// or https:// address"),
    (lambda d: d.update(url="file:///etc/passwd"), "peers.yaml: url: must be an http:// or https:// address"),
    (lambda d: d.pop("respondents"), "peers.yaml: respondents: is required for published aggregates"),
    # A copy: the same object twice would be written as a YAML alias, which the loader refuses first.
    (lambda d: d["findings"].append(copy.deepcopy(d["findings"][0])), "peers.yaml: findings[16].id: duplicate id 'priority.valuable'"),
])
def test_broken_peer_file_gets_file_path_and_problem(tmp_path, edit, message):
    with pytest.raises(DataFileError) as error:
        load_peers(_broken(tmp_path, edit))
    assert message in str(error.value)


def test_peers_validate_command(tmp_path):
    ok = CliRunner().invoke(cli, ["peers", "validate", str(PEERS_FILE)])
    assert ok.exit_code == 0 and "29 figures in 16 findings, n = 233" in ok.output
    bad = CliRunner().invoke(cli, ["peers", "validate", str(_broken(tmp_path, lambda d: _option(d).update(overall_pct=-1)))])
    assert bad.exit_code == 2 and "overall_pct: must be >= 0" in bad.output


def test_peers_show_json_lists_every_figure_with_all_fields():
    result = CliRunner().invoke(cli, ["peers", "show", "--format", "json"])
    rows = json.loads(result.output)
    assert len(rows) == 29
    first = rows[0]
    assert set(first) >= {"finding_id", "option", "overall_pct", "region_pct", "confidence", "source"}
    assert first["region_pct"] == {"us": 86, "europe": 83, "apac": 79}
    assert first["source"][0]["url"].startswith("https://")
    # 233 is the whole sample; the regional subgroups' sizes are not published.
    assert (first["respondents"], first["region_respondents"]) == (233, None)
    focus = next(r for r in rows if r["finding_id"] == "custom_ai.focus")
    assert focus["base"] == "not published"


def test_peers_show_text_prints_confidence_sources_and_notes():
    output = CliRunner().invoke(cli, ["peers", "show"]).output
    assert "approaches | Primary approaches for achieving sovereign AI | Open source software: 81% (A; S1, S2, S3)" in output
    assert "S3: LF AI & Data press release, 26 Aug 2025 <https://pr.comtex.com/2025/08/26/468315585>" in output
    assert "S8: Third-party summary of a Chinese article (CSDN, 1 Sep 2025), via reportify.ai (no address" in output
    # The known conflicts: the 94% variant, Security kept from a paraphrase, a plurality.
    assert "Essential: 93% (A; S1, S2)\n    Note: The press release and several summaries say 94%" in output
    assert 'Note: The press release attaches 60% to "auditability and security"' in output
    assert "Note: A plurality, not a majority" in output
    assert "intellectual property: 57% (A; S1, S2; base not published)" in output


def test_peers_show_text_cites_the_report_as_it_asks_wherever_its_data_are_used(peers):
    """The listing gave title, publisher and licence but not the citation (authors, survey size), and
    ran the confidence levels together as "The report's own text.; B = ..."."""
    output = CliRunner().invoke(cli, ["peers", "show"]).output
    assert output.startswith(f"{peers.citation}\n{peers.url}\nLicence: {peers.licence}.\n")
    assert "Confidence: A = The report's own text. B = An official Linux Foundation" in output and ".;" not in output


def test_region_respondents_are_counted_in_respondent_level_data(respondent_dataset):
    path = respondent_dataset([["r1", "europe", "1", "0"], ["r2", "us", "1", "1"], ["r3", "europe", "0", "0"]])
    rows = json.loads(CliRunner().invoke(cli, ["peers", "show", "--peer-data", str(path), "--format", "json"]).output)
    oss = next(r for r in rows if r["option"] == "Open source software")
    assert (oss["respondents"], oss["region_respondents"]) == (3, {"europe": 2, "us": 1})


def test_each_share_s_base_is_the_respondents_who_answered_it(respondent_dataset):
    """A blank is left out of a share's denominator, but the counts beside it took every row: 50% of
    Europe's two answers was said to be of three respondents."""
    path = respondent_dataset([["r1", "europe", "1", ""], ["r2", "europe", "1", "1"], ["r3", "europe", "0", "0"],
                               ["r4", "us", "1", ""]])
    rows = json.loads(CliRunner().invoke(cli, ["peers", "show", "--peer-data", str(path), "--format", "json"]).output)
    open_data = next(r for r in rows if r["option"] == "Open data")
    assert (open_data["overall_pct"], open_data["region_pct"]) == (50.0, {"europe": 50.0})
    assert (open_data["respondents"], open_data["region_respondents"]) == (2, {"europe": 2})
    oss = next(r for r in rows if r["option"] == "Open source software")
    assert (oss["respondents"], oss["region_respondents"]) == (4, {"europe": 3, "us": 1})


def test_a_published_share_without_a_base_is_given_of_no_respondent_count():
    """57% (A; S1, S2; base not published) was listed as of the 233 respondents."""
    rows = json.loads(CliRunner().invoke(cli, ["peers", "show", "--format", "json"]).output)
    focus = next(r for r in rows if r["finding_id"] == "custom_ai.focus")
    assert (focus["overall_pct"], focus["base"], focus["respondents"]) == (57, "not published", None)


# Respondent-level data ------------------------------------------------------------------------

def test_respondent_level_data_computes_shares_leaving_blanks_out(respondent_dataset):
    path = respondent_dataset([["r1", "europe", "1", "0"], ["r2", "us", "1", ""],
                                          ["r3", "europe", "0", "1"], ["r4", "", "1", "1"]])
    dataset = load_peers(path)
    assert dataset.respondents == 4
    assert dataset.label == "empirical, from respondent-level data (n = 4)"
    oss = dataset.figure("approaches", "Open source software")
    assert oss.overall_pct == 75.0 and oss.region_pct == {"europe": 50.0, "us": 100.0}
    assert dataset.figure("approaches", "Open data").overall_pct == pytest.approx(66.7)
    assert dataset.figure("drivers", "Data control").overall_pct is None


def test_a_dataset_dated_without_quotes_is_read(tmp_path):
    """YAML read "date: 2025-08-25" as a date object, refused as "date: input should be a valid string"."""
    path = tmp_path / "dated.yaml"
    path.write_text(PEERS_FILE.read_text(encoding="utf-8").replace('date: "2025-08"', "date: 2025-08-25", 1))
    assert load_peers(path).date == "2025-08-25"


def test_a_respondent_file_saved_with_a_byte_order_mark_is_read(respondent_dataset):
    """Excel saves "CSV UTF-8" with one: the first column was "\ufeffrespondent", an unknown column,
    and the file was refused for lacking a respondent column it had."""
    path = respondent_dataset([["r1", "europe", "1", "0"], ["r2", "us", "0", "0"]])
    csv_path = path.parent / "respondents.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes())
    assert load_peers(path).figure("approaches", "Open source software").overall_pct == 50.0


def test_respondent_level_errors_name_line_and_column(respondent_dataset):
    path = respondent_dataset([["r1", "mars", "yes", "0"]])
    with pytest.raises(DataFileError) as error:
        load_peers(path)
    text = str(error.value)
    assert "respondents.csv: line 2.region: unknown region 'mars'" in text
    assert "respondents.csv: line 2.approaches:Open source software: must be 1, 0 or blank, not 'yes'" in text


def test_respondent_level_unknown_column(respondent_dataset):
    path = respondent_dataset([["r1", "1"]], header=["respondent", "approaches:Blockchain"])
    with pytest.raises(DataFileError, match="unknown column 'approaches:Blockchain'"):
        load_peers(path)
