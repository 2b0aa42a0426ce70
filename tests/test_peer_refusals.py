"""Hostile peer data files: oversized, truncated, wrongly encoded, deeply nested or with repeated ids.
Each is refused, by the loader and by `sovready peers validate`, with a message naming the file and
the problem; nothing is half-loaded (the loader returns a dataset or raises, never a partial one)."""

import pytest
import yaml
from click.testing import CliRunner

from assessment.cli import cli
from assessment.datafile import MAX_FILE_BYTES, DataFileError
from assessment.paths import RUBRIC_DIR
from assessment.peers import load_peers

PEERS_FILE = RUBRIC_DIR / "peers" / "lf-sovereign-ai-2025.yaml"
TEXT = PEERS_FILE.read_text(encoding="utf-8")
DATASETS = {
    "oversized": (b"# " + b"x" * (MAX_FILE_BYTES + 1), "file is larger than 2048 KiB"),
    "truncated": (TEXT[: len(TEXT) // 2].encode(), "is required"),
    "utf-16": (TEXT.encode("utf-16"), "is not UTF-8 text"),
    "latin-1": (TEXT.replace("title:", "title: Agência", 1).encode("latin-1"), "is not UTF-8 text"),
    "binary junk": (bytes(range(256)) * 4, "is not UTF-8 text"),
    "10,000-deep list": (b"[" * 10_000 + b"]" * 10_000, "exceeded maximum nesting depth"),
    "900-deep key": (b"? " + b"[" * 900 + b"]" * 900 + b"\n: 1\n", "nested too deeply"),
    "duplicate key": ((TEXT + "\ntitle: again\n").encode(), "duplicate key 'title'"),
    "duplicate finding id": (TEXT.replace("- id: drivers\n", "- id: approaches\n", 1).encode(),
                             "duplicate id 'approaches'"),
    "a region's share over 100": (TEXT.replace("region_pct: {us: 86,", "region_pct: {us: 186,", 1).encode(),
                                  "us: must be within 0 to 100"),
    "a published figure without its overall share": (TEXT.replace("        overall_pct: 79\n", "", 1).encode(),
                                                      "overall_pct: is required for published aggregates"),
    "respondent-level data without its file": (TEXT.replace("kind: aggregates", "kind: respondents", 1).encode(),
                                                "respondent_file: is required for respondent-level data"),
}


@pytest.mark.parametrize("content, message", DATASETS.values(), ids=DATASETS.keys())
def test_a_hostile_peer_dataset_is_refused(tmp_path, content, message):
    path = tmp_path / "peers.yaml"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match="peers.yaml: ") as error:
        load_peers(path)
    assert message in str(error.value)
    result = CliRunner().invoke(cli, ["peers", "validate", str(path)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


HEADER = "respondent,region,approaches:Open source software,approaches:Open data\n"
RESPONDENTS = {
    "oversized": (HEADER.encode() + b"r1,europe,1,0\n" * (MAX_FILE_BYTES * 8 // 14 + 1), "file is larger than 16 MiB"),
    "cut mid-row": ((HEADER + "r1,europe,1,0\nr2,us,0").encode(), "line 3: has fewer cells than the header"),
    "cut inside a quote": ((HEADER + 'r1,europe,1,0\n"r2,us,0,1\n').encode(), "line 3: has fewer cells"),
    "extra cells": ((HEADER + "r1,europe,1,0,1\n").encode(), "line 2: has more cells than the header"),
    "utf-16": ((HEADER + "r1,europe,1,0\n").encode("utf-16"), "is not a readable UTF-8 CSV file"),
    "latin-1": ((HEADER + "rä,europe,1,0\n").encode("latin-1"), "is not a readable UTF-8 CSV file"),
    "binary junk": (bytes(range(256)) * 4, "is not a readable UTF-8 CSV file"),
    "a field over the csv limit": ((HEADER + 'r1,"' + "x" * 200_000 + '",1,0\n').encode(), "field larger than"),
    "duplicate respondent": ((HEADER + "r1,europe,1,0\nr1,us,0,1\n").encode(),
                             "line 3.respondent: duplicate respondent 'r1' (first on line 2)"),
    "duplicate column": (b"respondent,region,region\nr1,europe,us\n", "header: duplicate column 'region'"),
    "no respondent column": (b"region,approaches:Open data\neurope,1\n", "header: a 'respondent' column is required"),
    "header only": (HEADER.encode(), "has no respondents"),
    # A blank id was accepted, so respondents without one could not be told apart or checked for repeats.
    "blank respondent": ((HEADER + "r1,europe,1,0\n ,us,0,1\n").encode(), "line 3.respondent: is blank"),
}


@pytest.mark.parametrize("content, message", RESPONDENTS.values(), ids=RESPONDENTS.keys())
def test_a_hostile_respondent_file_is_refused(respondent_dataset, content, message):
    path = respondent_dataset([["r1", "europe", "1", "0"]])
    (path.parent / "respondents.csv").write_bytes(content)
    with pytest.raises(DataFileError, match="respondents.csv: ") as error:
        load_peers(path)
    assert message in str(error.value)
    result = CliRunner().invoke(cli, ["peers", "validate", str(path)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


RESPONDENT_FILES = {
    # A directory was an IsADirectoryError traceback.
    "a directory": ("folder", "Error: folder: is a directory, not a file"),
    # Any file the process could read was read, and its first line echoed as unknown columns.
    "an absolute path": ("/etc/passwd", "micro.yaml: respondent_file: must be a relative path inside"),
    "a path leaving the folder": ("../respondents.csv", "micro.yaml: respondent_file: must be a relative path inside"),
    "a path through the parent": ("folder/../../respondents.csv", "micro.yaml: respondent_file: must be a relative"),
}


@pytest.mark.parametrize("name, message", RESPONDENT_FILES.values(), ids=RESPONDENT_FILES.keys())
def test_a_respondent_file_outside_the_folder_or_unreadable_is_refused(respondent_dataset, name, message):
    path = respondent_dataset([["r1", "europe", "1", "0"]])
    (path.parent / "folder").mkdir()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**data, "respondent_file": name}, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["peers", "validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message in result.output and "root:" not in result.output


def test_a_respondent_file_linked_from_outside_the_folder_is_refused(respondent_dataset, tmp_path):
    # The field's check reads only the path's text: a link inside the folder was followed to /etc/passwd.
    path = respondent_dataset([["r1", "europe", "1", "0"]])
    (path.parent / "respondents.csv").unlink()
    (path.parent / "respondents.csv").symlink_to("/etc/passwd")
    result = CliRunner().invoke(cli, ["peers", "validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output and "root:" not in result.output
    assert "micro.yaml: respondent_file: leads outside the dataset's folder through a symbolic link" in result.output
