"""Cohorts from stored assessments: latest per organization, workspace and opt-in scopes."""

from assessment import records
from assessment.answers import Answer, AnswerSet
from assessment.cohorts import Member, cohort_stats


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
