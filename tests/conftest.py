import copy
import re

import pytest
import yaml

from assessment.paths import DEFAULT_RUBRIC, RUBRIC_DIR
from assessment.peers import load_peers
from assessment.rubric import load_rubric

PEERS_FILE = RUBRIC_DIR / "peers" / "lf-sovereign-ai-2025.yaml"


@pytest.fixture(scope="session")
def rubric():
    return load_rubric(DEFAULT_RUBRIC)


@pytest.fixture(scope="session")
def peers():
    return load_peers(PEERS_FILE)


@pytest.fixture(scope="session")
def rubric_data():
    """The shipped rubric as plain data, for tests that break it on purpose."""
    return yaml.safe_load(DEFAULT_RUBRIC.read_text(encoding="utf-8"))


def _next_version(data: dict) -> None:
    """The shipped rubric as version 2.0.0: a question reworded, one removed and one added, a weight
    and a dimension's weight changed, a new dimension whose questions link to no survey figure, and
    a driver and a barrier removed."""
    data["version"] = "2.0.0"
    data["drivers"] = [d for d in data["drivers"] if d["id"] != "cultural_alignment"]
    data["barriers"] = [b for b in data["barriers"] if b["id"] != "vendor_lock_in"]
    for question in (q for d in data["dimensions"] for q in d["questions"]):
        question["drivers"] = [d for d in question["drivers"] if d != "cultural_alignment"]
    strategy, data_dimension, security = data["dimensions"][:3]
    strategy["questions"][1]["text"] = "Reworded: " + strategy["questions"][1]["text"]
    del strategy["questions"][3]  # strategy.funding
    added = copy.deepcopy(strategy["questions"][3])
    added.update(id="strategy.roadmap", title="Sovereign AI roadmap", findings=[])
    added.pop("peer_link", None)
    strategy["questions"].append(added)
    data_dimension["weight"] = 2
    security["questions"][0]["weight"] = 1  # security.supply_chain, 3 before
    compute = copy.deepcopy(data["dimensions"][5])
    compute.update(id="compute", title="Compute and infrastructure", questions=compute["questions"][:3])
    for number, question in enumerate(compute["questions"]):
        question.update(id=f"compute.q{number}", findings=[])
        question.pop("peer_link", None)
    data["dimensions"].append(compute)


@pytest.fixture(scope="session")
def next_version_yaml(rubric_data) -> str:
    """The text of the shipped rubric's next version (``_next_version``), as an administrator uploads it."""
    data = copy.deepcopy(rubric_data)
    _next_version(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture
def write_rubric(tmp_path, rubric_data):
    """Write a copy of the shipped rubric, changed by ``edit``, beside a copy of its peers."""

    def write(edit=None, name="rubric.yaml"):
        data = copy.deepcopy(rubric_data)
        if edit:
            edit(data)
        (tmp_path / "peers").mkdir(exist_ok=True)
        (tmp_path / "peers" / PEERS_FILE.name).write_text(PEERS_FILE.read_text(encoding="utf-8"))
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def respondent_dataset(tmp_path):
    """Write a respondent-level copy of the shipped dataset with the given CSV rows."""

    def write(rows, header=None):
        data = yaml.safe_load(PEERS_FILE.read_text(encoding="utf-8"))
        data.update(kind="respondents", respondent_file="respondents.csv")
        data.pop("respondents")
        for finding in data["findings"]:
            for option in finding["options"]:
                option.pop("overall_pct")
                option.pop("region_pct", None)
        (tmp_path / "micro.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        header = header or ["respondent", "region", "approaches:Open source software", "approaches:Open data"]
        lines = [",".join(header)] + [",".join(row) for row in rows]
        (tmp_path / "respondents.csv").write_text("\n".join(lines) + "\n")
        return tmp_path / "micro.yaml"

    return write


@pytest.fixture(scope="session")
def published_only(rubric, peers):
    """A check that a text states only the dataset's published figures, each with its confidence
    and sources ("93% (A; S1, S2)"): no derived share such as a complement, no bare figure."""
    marked = {f"{pct:g}% ({figure.mark()})" for _, figure in peers.figures()
              for pct in [figure.overall_pct, *figure.region_pct.values()]}
    threshold = f"at least {rubric.table_stakes.min_share:g}%"  # the table-stakes rule, not a figure
    margin = "a 95% margin"  # the sampling error's confidence level (textreport.cannot_say), not a figure

    def check(text):
        text = " ".join(text.split()).replace(threshold, "").replace(margin, "")
        found = re.findall(r"\d+(?:\.\d+)?% \([^)]*\)|\d+(?:\.\d+)?%", text)
        assert found, "no survey figure in the text"
        assert [f for f in found if f not in marked] == []
        return found

    return check
