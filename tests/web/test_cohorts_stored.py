"""Cohorts from stored assessments: latest per organization, workspace and opt-in scopes."""

import re

from assessment import accounts, records
from assessment.answers import Answer, AnswerSet
from assessment.cohorts import Member, cohort_stats
from assessment.rubrics import add_rubric


def _assessment(db, workspace, rubric, organization, level, region="europe", opt_in=False):
    answers = AnswerSet(answers={q: Answer(level) for q in rubric.questions}, organization=organization,
                        profile={"region": region})
    return records.create_assessment(db, workspace, rubric, f"{organization} {level}", answers=answers,
                                     opt_in_benchmark=opt_in)


def test_workspace_cohort_counts_each_organization_once_at_its_latest(db, people, default_rubric):
    workspace = people["workspace"]
    for i, name in enumerate(["A", "B", "C", "D", "E"]):
        _assessment(db, workspace, default_rubric, name, i % 5)
    _assessment(db, workspace, default_rubric, " a ", 4)  # a later round of "A", same organization
    members = records.cohort_members(db, default_rubric.id, default_rubric.version, workspace)
    assert sorted(m.organization for m in members) == ["a", "b", "c", "d", "e"]
    assert {m.organization: m.overall for m in members}["a"] == 100
    assert all(len(m.dimensions) == len(default_rubric.dimensions) for m in members)
    assert members[0].profile == {"region": "europe"}


def test_instance_cohort_takes_only_opted_in_assessments_from_every_workspace(db, people, default_rubric):
    for i in range(3):
        _assessment(db, people["workspace"], default_rubric, f"in-{i}", 2, opt_in=True)
        _assessment(db, people["other_workspace"], default_rubric, f"in-{i}", 3, opt_in=True)
        _assessment(db, people["other_workspace"], default_rubric, f"out-{i}", 1)
    members = records.cohort_members(db, default_rubric.id, default_rubric.version)
    assert len(members) == 6  # the same names in two workspaces are two organizations
    assert all(m.organization.split(":")[1].startswith("in-") for m in members)
    assert sorted(m.workspace for m in members) == sorted([people["workspace"], people["other_workspace"]] * 3)


def test_own_assessment_is_left_out_and_small_cohorts_withheld(db, people, default_rubric):
    workspace = people["workspace"]
    own = _assessment(db, workspace, default_rubric, "Us", 2)
    for name in "ABCD":
        _assessment(db, workspace, default_rubric, name, 1)
    members = records.cohort_members(db, default_rubric.id, default_rubric.version, workspace)
    me = Member(records.cohort_key(db, own, instance=False), 50.0, {})
    assert cohort_stats(members, me).withheld.startswith("This cohort has 4 organizations.")
    _assessment(db, workspace, default_rubric, "E", 3)
    members = records.cohort_members(db, default_rubric.id, default_rubric.version, workspace)
    stats = cohort_stats(members, me)
    assert stats.size == 5 and stats.percentile == 80  # above the four at level 1, below the one at 3


def _instance_cohort(client, assessment_id) -> str:
    """The instance-wide part of the results page's cohorts."""
    page = client.get(f"/a/{assessment_id}/results").get_data(as_text=True)
    cohorts = page.split('<h2 id="cohorts-title">')[1].split("</section>")[0]
    return cohorts.split("<h3>")[2]  # the workspace's, then the instance's


def test_decoys_in_the_viewers_own_workspace_do_not_reveal_an_organization(db, people, default_rubric, outsider):
    """The audit's attack: one organization opted in elsewhere, four decoys and the attacker's own
    assessment in the attacker's workspace. Counted as five organizations, the cohort showed the
    real one's exact scores as its minimum."""
    _assessment(db, people["workspace"], default_rubric, "Victim", 1, opt_in=True)
    mine = [_assessment(db, people["other_workspace"], default_rubric, f"Decoy {n}", 4, opt_in=True)
            for n in range(5)]
    cohort = _instance_cohort(outsider, mine[0])
    assert "This cohort has 1 organization from 1 other workspace." in cohort
    assert '<th scope="row">' not in cohort  # no statistics at all


def test_the_instance_cohort_counts_other_workspaces_and_gives_no_extremes(db, people, default_rubric, owner):
    own = _assessment(db, people["workspace"], default_rubric, "Us", 2, opt_in=True)
    for name in "ABCDE":  # the workspace's own cohort: five others, minimum and maximum shown
        _assessment(db, people["workspace"], default_rubric, name, 0, opt_in=True)
    for n in range(4):
        workspace = accounts.create_workspace(db, f"Elsewhere {n}", people["outsider"])
        _assessment(db, workspace, default_rubric, f"Client {n}", n + 1, opt_in=True)
        _assessment(db, workspace, default_rubric, f"Second client {n}", n + 1, opt_in=True)
    assert "This cohort has 8 organizations from 4 other workspaces." in _instance_cohort(owner, own)
    _assessment(db, people["other_workspace"], default_rubric, "Fifth", 4, opt_in=True)
    cohort = _instance_cohort(owner, own)
    assert "9 other organizations in 5 other workspaces" in cohort
    assert "Minimum" not in cohort and "Maximum" not in cohort
    # Quartiles of 25, 25, 50, 50, 75, 75, 100, 100, 100: this workspace's five at 0 are not among them.
    overall = re.search(r'<th scope="row">Overall</th>\s*((?:<td>[\d.]+</td>)+)', cohort).group(1)
    assert re.findall(r"[\d.]+", overall) == ["50.0", "75.0", "100.0"]
    page = owner.get(f"/a/{own}/results").get_data(as_text=True)
    assert page.split("This workspace</h3>")[1].count("Minimum") == 1  # the workspace's cohort as before


def test_a_cohort_never_mixes_rubric_versions(db, people, default_rubric, next_version_yaml):
    """An organization's round on a later version counts in that version's cohort only; its round on
    the earlier one stays in the earlier cohort, not replaced by the later round's scores."""
    newer, _ = add_rubric(db, next_version_yaml, "v2.yaml")
    workspace = people["workspace"]
    for name in "ABCDE":
        _assessment(db, workspace, default_rubric, name, 1)
        _assessment(db, workspace, newer, name, 3)
    old = records.cohort_members(db, default_rubric.id, default_rubric.version, workspace)
    new = records.cohort_members(db, newer.id, newer.version, workspace)
    assert {m.overall for m in old} == {25} and {m.overall for m in new} == {75}
    assert all("compute" not in m.dimensions for m in old) and all("compute" in m.dimensions for m in new)
