"""The survey-peer benchmark: item comparisons, table stakes, and the modelled percentile."""

import json

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment import peermodel
from assessment.answers import DONT_KNOW, NOT_APPLICABLE, Answer, AnswerSet, load_answers
from assessment.benchmark import compare, linked_scores, with_overall_share
from assessment.cli import cli
from assessment.paths import EXAMPLES, RUBRIC_DIR
from assessment.peers import load_peers
from assessment.scoring import score
from assessment.textreport import cannot_say

PEERS_FILE = RUBRIC_DIR / "peers" / "lf-sovereign-ai-2025.yaml"

EXAMPLE_NAMES = ["early-public-agency", "mid-enterprise", "advanced-research-lab"]


def _answers(rubric, level, region=None, **changes):
    answers = {qid: Answer(level) for qid in rubric.questions}
    answers.update({qid.replace("__", "."): Answer(v) for qid, v in changes.items()})
    return AnswerSet(answers=answers, profile={"region": region} if region else {})


# Calibration ---------------------------------------------------------------------------------

@pytest.mark.parametrize("region", [None, "us", "europe", "apac"])
def test_calibration_reproduces_every_published_share_within_one_point(rubric, peers, region):
    for assumptions in peermodel.VARIANTS:
        items = []
        for question in rubric.linked_questions:
            figure = peers.figure(question.peer_link.finding, question.peer_link.option)
            share = figure.share(region)[0] if region else figure.overall_pct
            items.append(peermodel.Item(question.id, share, question.peer_link.from_level))
        model = peermodel.model(tuple(items), assumptions)
        for item in items:
            assert model.modelled_share(item.key) == pytest.approx(item.share, abs=1.0), (item, assumptions)


def test_central_assumptions_are_among_the_variants():
    assert peermodel.CENTRAL in peermodel.VARIANTS


# Item comparisons --------------------------------------------------------------------------------

def test_item_comparison_says_where_the_organization_stands(rubric, peers):
    comparison = compare(rubric, peers, _answers(rubric, 3, open_stack__open_source=1))
    oss = comparison.item("open_stack.open_source")
    assert (oss.share, oss.status, oss.table_stakes) == (81, "does_not", True)
    # Only the published share is stated, never its complement (19% is no survey figure).
    assert oss.sentence == ("81% (A; S1, S2, S3) of respondents use open source software as a primary approach "
                            "to sovereign AI; this organization's answer is below the linked level.")
    assert oss.survey_question == "Primary approaches for achieving sovereign AI"
    standards = comparison.item("open_stack.open_standards")
    assert standards.status == "does" and standards.sentence.startswith("With the 65% (A; S2, S3) of respondents who use")


def test_a_share_whose_base_is_not_published_is_not_said_to_be_of_all_respondents(rubric, peers):
    # 57% may be of those who build customized AI: "of respondents" claimed a base the report does not give.
    for level, start in ((3, "With the 57% (A; S1, S2; base not published) of those asked who focus"),
                         (1, "57% (A; S1, S2; base not published) of those asked focus")):
        comparison = compare(rubric, peers, _answers(rubric, 3, open_stack__capability_ip=level))
        assert comparison.item("open_stack.capability_ip").sentence.startswith(start)


def test_regional_share_is_used_where_given_and_fallback_is_reported(rubric, peers):
    comparison = compare(rubric, peers, _answers(rubric, 2, region="europe"))
    mandate = comparison.item("strategy.mandate")
    assert (mandate.share, mandate.overall_share, mandate.regional) == (83, 79, True)
    assert "respondents in Europe" in mandate.sentence and mandate.note == ""
    oss = comparison.item("open_stack.open_source")
    assert (oss.share, oss.regional) == (81, False)
    assert oss.note == "No figure for Europe: compared with all respondents."
    assert comparison.regional is not None and "regional figures for 2 of 15" in comparison.regional.note


@pytest.mark.parametrize(("name", "regional"), [("mid-enterprise", 2), ("advanced-research-lab", 1)])
def test_the_regional_percentile_says_how_many_figures_are_regional_and_that_a_few_points_are_noise(name, regional):
    output = CliRunner().invoke(cli, ["score", str(EXAMPLES / f"{name}.yaml"), "--peers"]).output
    region = next(line for line in output.splitlines() if line.startswith("  Region: "))
    assert f"regional figures for {regional} of 15 linked survey figures" in region
    assert ("A difference of a few points from the overall percentile is within the survey's noise: a regional "
            "subgroup is smaller than the whole sample, so its sampling error is larger (more than ±6.4 points "
            "on a share near one half).") in region


@pytest.mark.parametrize(("region", "sentence"), [
    ("apac", "36% (A; S2) of respondents in Asia-Pacific "),
    ("europe", "28% (A; S2) of respondents "),  # no figure for Europe: the overall one
    (None, "28% (A; S2) of respondents "),
])
def test_a_barrier_shows_the_regional_share_where_the_survey_gives_one(rubric, peers, region, sentence):
    answers = AnswerSet(answers={}, barriers=("geopolitical_tensions",),
                        profile={"region": region} if region else {})
    (barrier,) = compare(rubric, peers, answers).barriers
    assert barrier.sentence.startswith(sentence) and (barrier.region == "apac") == (region == "apac")


def test_region_without_survey_figures_says_so(rubric, peers):
    comparison = compare(rubric, peers, _answers(rubric, 2, region="mea"))
    assert comparison.regional is None
    assert "no figures for this region (mea)" in comparison.region_note
    assert all(i.note == "" for i in comparison.items)


def test_not_applicable_dont_know_and_unanswered_items(rubric, peers):
    answers = _answers(rubric, 3, open_stack__open_source=NOT_APPLICABLE, open_stack__open_standards=DONT_KNOW)
    del answers.answers["open_stack.custom_ai"]
    comparison = compare(rubric, peers, answers)
    assert comparison.item("open_stack.open_source").status == "not_applicable"
    assert comparison.item("open_stack.open_standards").status == "does_not"
    assert comparison.item("open_stack.custom_ai").status == "unanswered"
    assert comparison.overall.items == len(rubric.linked_questions) - 2


def test_table_stakes_raise_the_gap_priority(rubric, peers):
    answers = _answers(rubric, 3, open_stack__open_source=1, governance__community_governance=1)
    plain = {g.question: g for g in score(rubric, answers).gaps}
    compared = {g.question: g for g in score(rubric, answers, peers).gaps}
    oss, community = compared["open_stack.open_source"], compared["governance.community_governance"]
    assert oss.table_stakes and oss.priority == plain["open_stack.open_source"].priority * 1.5
    # 43% of peers prefer community-led governance: below the 60% line, so not table stakes.
    assert not community.table_stakes and community.priority == plain["governance.community_governance"].priority


def test_drivers_and_marked_barriers_beside_the_peers(rubric, peers):
    answers = AnswerSet(answers={}, drivers={"data_control": "critical"},
                        barriers=("data_quality", "compute_access"))
    comparison = compare(rubric, peers, answers)
    drivers = {d.driver: d for d in comparison.drivers}
    assert (drivers["data_control"].importance, drivers["data_control"].share) == ("critical", 72)
    assert drivers["cultural_alignment"].importance is None and drivers["cultural_alignment"].confidence == "C"
    assert drivers["data_control"].cited == "72% (A; S1, S2, S3)"
    barriers = {b.barrier: b for b in comparison.barriers}
    assert set(barriers) == {"data_quality", "compute_access"}
    assert barriers["data_quality"].share == 44 and barriers["compute_access"].share is None
    assert barriers["compute_access"].mitigation
    # The figure comes from another question than the barrier's own; the sentence says which.
    assert barriers["data_quality"].sentence == ("44% (A; S1, S2) of respondents report data quality as a "
                                                 "challenge in adopting open source AI.")
    assert barriers["compute_access"].sentence == "No published survey figure."


def test_dimensions_without_survey_figures_have_no_percentile(rubric, peers):
    comparison = compare(rubric, peers, _answers(rubric, 2))
    assert comparison.dimensions["security"].value is None
    assert "gives no figure" in comparison.dimensions["security"].note
    assert comparison.reference["security"] is None and comparison.reference["open_stack"] is not None


def test_a_dataset_without_any_linked_figure_gives_no_reference_and_no_percentile(rubric, tmp_path):
    """A stored rubric version whose every figure a later dataset renamed: nothing to model a peer from."""
    data = yaml.safe_load(PEERS_FILE.read_text(encoding="utf-8"))
    for finding in data["findings"]:
        finding["id"] += ".renamed"
    (tmp_path / "peers.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    comparison = compare(rubric, load_peers(tmp_path / "peers.yaml"), _answers(rubric, 2))
    assert comparison.reference == {d.id: None for d in rubric.dimensions}
    assert comparison.overall.value is None and all(not item.in_dataset for item in comparison.items)


def test_the_peer_reference_has_the_organizations_score_on_the_same_questions_beside_it(rubric, peers):
    mid = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    comparison = compare(rubric, peers, mid)
    data = next(d for d in score(rubric, mid).dimensions if d.id == "data")
    # On all six questions it scores 55, above the median peer's 51.1 on the one linked question;
    # on that question it scores 50, below it.
    assert (round(data.score), comparison.reference["data"], comparison.linked_score["data"]) == (55, 51.1, 50.0)
    assert comparison.linked_score["security"] is None  # no linked question
    assert linked_scores(rubric, with_overall_share(rubric, peers), mid) == comparison.linked_score
    assert comparison.as_dict()["linked_score"] == comparison.linked_score


def test_the_score_on_the_linked_questions_counts_only_those_answered(rubric, peers):
    comparison = compare(rubric, peers, _answers(rubric, 3, data__open_data=NOT_APPLICABLE,
                                                 open_stack__open_source=DONT_KNOW))
    assert comparison.linked_score["data"] is None and comparison.reference["data"] is not None
    # Don't know counts as level 0, as in the dimension's score: 0 and 75 on open_stack's linked questions.
    assert 0 < comparison.linked_score["open_stack"] < 75
    assert set(compare(rubric, peers, AnswerSet(answers={})).linked_score.values()) == {None}


# The percentile ----------------------------------------------------------------------------------

def test_percentile_is_labelled_and_banded(rubric, peers):
    overall = compare(rubric, peers, _answers(rubric, 2)).overall
    assert overall.low <= overall.value <= overall.high
    assert 0 <= overall.low and overall.high <= 100


LINKED_LEVELS = st.lists(st.integers(0, 4), min_size=15, max_size=15)


@settings(max_examples=60, deadline=None)
@given(levels=LINKED_LEVELS, which=st.integers(0, 14))
def test_endorsing_one_more_linked_practice_never_lowers_the_percentile(rubric, peers, levels, which):
    linked = [q.id for q in rubric.linked_questions]
    assert len(linked) == 15
    if levels[which] == 4:
        return
    base = AnswerSet(answers={q: Answer(v) for q, v in zip(linked, levels, strict=True)})
    raised = AnswerSet(answers=dict(base.answers, **{linked[which]: Answer(levels[which] + 1)}))
    before, after = compare(rubric, peers, base), compare(rubric, peers, raised)
    assert after.overall.value >= before.overall.value
    dimension = rubric.dimension_id[linked[which]]
    assert after.dimensions[dimension].value >= before.dimensions[dimension].value


def test_examples_rank_early_mid_advanced_on_every_percentile(rubric, peers):
    comparisons = [compare(rubric, peers, load_answers(EXAMPLES / f"{name}.yaml", rubric)) for name in EXAMPLE_NAMES]
    early, mid, advanced = comparisons
    assert early.overall.value < mid.overall.value < advanced.overall.value
    assert early.regional.value < mid.regional.value < advanced.regional.value
    for dimension, percentile in early.dimensions.items():
        if percentile.value is None:
            continue
        values = [c.dimensions[dimension].value for c in comparisons]
        assert values[0] < values[1] < values[2], dimension


def test_empirical_percentile_with_respondent_data(rubric, respondent_dataset):
    path = respondent_dataset([["r1", "europe", "1", "0"], ["r2", "us", "1", "1"],
                                          ["r3", "europe", "0", "0"], ["r4", "europe", "0", "1"]])
    dataset = load_peers(path)
    links = {"open_stack.open_source": 3, "data.open_data": 3}
    answers = AnswerSet(answers={q: Answer(v) for q, v in links.items()}, profile={"region": "europe"})
    comparison = compare(rubric, dataset, answers)
    # r1..r4 endorse 1/2, 2/2, 0/2, 1/2 of the two items; the organization endorses both.
    assert (comparison.overall.value, comparison.overall.low, comparison.overall.high) == (87.5, 75.0, 100.0)
    assert comparison.label.startswith("empirical") and comparison.regional.value == 100.0


def test_an_empirical_percentile_leaves_blank_answers_out(rubric, respondent_dataset):
    """A blank is unknown, as in the dataset's own percentages: each respondent's share is of the
    items they answered, and who answered none of them is left out (not ranked as doing none)."""
    path = respondent_dataset([["r1", "europe", "1", ""], ["r2", "us", "0", "0"],
                               ["r3", "europe", "", ""], ["r4", "europe", "1", "1"]])
    links = {"open_stack.open_source": 3, "data.open_data": 1}  # does the first, not the second
    answers = AnswerSet(answers={q: Answer(v) for q, v in links.items()}, profile={"region": "europe"})
    comparison = compare(rubric, load_peers(path), answers)
    # Compared: r1 1/1, r2 0/2, r4 2/2 against the organization's 1/2; only r2 is below.
    assert comparison.overall.value == round(100 / 3, 1)
    # In Europe, r1 and r4 both do more: the organization is below everyone compared.
    assert comparison.regional.value == 0.0


def test_an_empirical_percentile_without_any_answer_says_so(rubric, respondent_dataset):
    path = respondent_dataset([["r1", "europe", "", ""], ["r2", "us", "1", ""]])
    answers = AnswerSet(answers={"open_stack.open_source": Answer(3)}, profile={"region": "europe"})
    comparison = compare(rubric, load_peers(path), answers)
    assert comparison.overall.value == 50.0  # tied with r2, the one who answered
    regional = comparison.regional  # no one in Europe answered: no percentile, and why
    assert regional.value is None and regional.note == "No respondent answered these survey questions."


# Command line ------------------------------------------------------------------------------------

def test_score_with_peers_json_has_the_documented_keys():
    result = CliRunner().invoke(cli, ["score", str(EXAMPLES / "mid-enterprise.yaml"), "--peers", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["peers"]
    assert set(data) >= {"items", "drivers", "barriers", "percentile"}
    assert data["percentile"]["label"] == "modelled from published aggregates (n = 233)"
    assert set(data["percentile"]["overall"]) == {"value", "low", "high", "items", "note"}


def test_score_text_with_peers_labels_the_percentile():
    output = CliRunner().invoke(cli, ["score", str(EXAMPLES / "early-public-agency.yaml"), "--peers"]).output
    assert "percentiles modelled from published aggregates (n = 233)" in output
    assert "Overall: 4th percentile (range 1st to 11th; 14 linked survey figures)" in output
    assert "each with its range under the model's assumptions:" in output
    assert "linked practice" not in output  # most linked figures are views, not practices
    assert "Table stakes." in output
    # Several linked figures are views, not practices: the rule says so, and each item its question.
    assert "whether that figure is a practice respondents report or a view they hold" in output
    assert "Survey question: Global collaboration is essential for secure and culturally aligned sovereign AI." in output


def test_a_table_stakes_gap_names_the_survey_figure_behind_it():
    # The tag raised a gap's priority on a view (national governments as stakeholders) as on a practice,
    # without saying which: the roadmap now names the figure.
    output = CliRunner().invoke(cli, ["score", str(EXAMPLES / "mid-enterprise.yaml"), "--peers"]).output
    assert ("Engagement with national government (governance.government_engagement, level 1 -> 3, priority 12) "
            "[table stakes; survey: Key stakeholders for shaping sovereign AI: National governments, 66% (A; S1, S2, "
            "S3)]") in output


def test_a_table_stakes_gap_on_a_regional_figure_names_its_region(rubric, peers):
    """83% is Europe's share of respondents seeing sovereign AI as a strategic priority (79% overall):
    shown beside the gap without its region, it read as all respondents' figure."""
    result = score(rubric, load_answers(EXAMPLES / "early-public-agency.yaml", rubric), peers)
    mandate = result.peers.item("strategy.mandate")
    assert (mandate.share, mandate.regional, mandate.table_stakes) == (83, True, True)
    assert result.peers.stakes_figure("strategy.mandate") == (
        "survey: Sovereign AI is valuable and a strategic priority: Yes, 83% (A; S1, S2, S4) in Europe")
    engagement = result.peers.stakes_figure("governance.government_engagement")
    assert engagement.endswith("National governments, 66% (A; S1, S2, S3)")  # an overall figure names none


def test_the_table_stakes_rule_is_stated_as_applied(rubric, peers):
    """The note (command line, results page, PDF) said any gap on a question whose figure is at least
    60%; a gap at or above the linked level is not table stakes, since the organization already does
    what those respondents reported."""
    result = score(rubric, load_answers(EXAMPLES / "mid-enterprise.yaml", rubric), peers)
    standards = result.peers.item("open_stack.open_standards")
    gap = next(g for g in result.gaps if g.question == "open_stack.open_standards")
    assert (standards.share, standards.status, gap.current, gap.target) == (65, "does", 2, 3)
    assert not gap.table_stakes
    note = rubric.table_stakes.note
    assert "answered below the level linked to a survey figure of at least 60%" in note
    assert "for the organization's region where the survey gives one" in note


def test_score_text_says_what_the_percentile_cannot_say(peers):
    output = CliRunner().invoke(cli, ["score", str(EXAMPLES / "mid-enterprise.yaml"), "--peers"]).output
    said = output.split("What the percentile cannot say: ")[1].split("\n")[0]
    assert said == " ".join(cannot_say(peers))
    assert "±6.4 points" in said and "Linux Foundation's community" in said and "views respondents hold" in said


def test_score_text_cites_the_survey_its_licence_and_the_sources_of_the_figures_shown(peers):
    output = CliRunner().invoke(cli, ["score", str(EXAMPLES / "mid-enterprise.yaml"), "--peers"]).output
    assert peers.citation in output and f"Licence: {peers.licence}." in output
    shown = output.split("Sources of the survey figures shown:")[1]
    assert "S1: Report text mirror <https://fxbaogao.com/detail/5046679>" in shown
    assert "S8: " in shown and "(no address recorded)" in shown  # cited by a driver's figure
    assert "S5: " not in shown  # no figure shown cites it


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_score_text_states_only_published_figures_each_with_its_sources(name, published_only):
    output = CliRunner().invoke(cli, ["score", str(EXAMPLES / f"{name}.yaml"), "--peers"]).output
    published_only(output)
    assert "do not yet" not in output


def test_broken_peer_data_on_the_command_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n")
    result = CliRunner().invoke(cli, ["score", str(EXAMPLES / "mid-enterprise.yaml"), "--peer-data", str(bad)])
    assert result.exit_code == 2 and "bad.yaml: version: is required" in result.output


def test_a_figure_the_dataset_no_longer_has_is_said_to_be_gone_and_counts_for_nothing(rubric, peers):
    """A stored rubric version may link to a figure a later dataset renamed: no share is invented for it."""
    renamed = peers.model_copy(update={"findings": [
        f.model_copy(update={"id": "priority.value"}) if f.id == "priority.valuable" else f for f in peers.findings]})
    before, after = compare(rubric, peers, _answers(rubric, 3)), compare(rubric, renamed, _answers(rubric, 3))
    item = after.item("strategy.mandate")
    assert (item.share, item.cited, item.sources, item.in_dataset, item.table_stakes) == (None, "", (), False, False)
    assert "(priority.valuable / Yes) is not in the current peer dataset" in item.sentence
    assert after.overall.items == before.overall.items - 1
    assert all(i.in_dataset for i in before.items)
