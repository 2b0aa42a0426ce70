"""Live cohort statistics: distribution, percentile, filters, and the minimum size."""

import pytest

from assessment.cohorts import MIN_COHORT, Member, cohort_stats


def _members(scores, **profile):
    return [Member(f"org{i}", s, {"data": s / 2}, dict(profile)) for i, s in enumerate(scores)]


def test_distribution_and_percentile():
    own = Member("me", 55.0, {"data": 30.0})
    stats = cohort_stats(_members([10, 20, 30, 40, 50, 60, 70, 80, 90]), own)
    assert stats.withheld is None and stats.size == 9
    d = stats.overall
    assert (d.minimum, d.q1, d.median, d.q3, d.maximum) == (10, 30, 50, 70, 90)
    assert stats.percentile == pytest.approx(100 * 5 / 9)
    assert stats.dimensions["data"].median == 25
    assert stats.dimension_percentiles["data"] == pytest.approx(100 * 5.5 / 9)  # 30 ties one member


def test_ties_count_half():
    stats = cohort_stats(_members([50, 50, 50, 50, 50]), Member("me", 50.0, {}))
    assert stats.percentile == 50


def test_a_cohort_below_five_organizations_is_withheld_with_a_reason():
    stats = cohort_stats(_members([10, 20, 30, 40]), Member("me", 55.0, {}))
    assert stats.withheld.startswith("This cohort has 4 organizations.")
    assert stats.overall is None and stats.percentile is None


def test_the_organization_itself_does_not_count_towards_its_cohort():
    members = _members([10, 20, 30, 40, 50])
    stats = cohort_stats(members, members[0])
    assert stats.size == MIN_COHORT - 1 and stats.withheld


def test_several_rounds_of_one_organization_count_once():
    members = [Member("same", float(s), {}) for s in range(10)] + _members([1, 2, 3])
    assert cohort_stats(members).size == 4


def test_filters_by_region_type_and_size():
    members = _members([10, 20, 30, 40, 50], region="europe", org_type="sme") + \
        [Member(f"us{i}", 90.0, {}, {"region": "us"}) for i in range(5)]
    europe = cohort_stats(members, filters={"region": "europe", "org_type": "sme"})
    assert europe.size == 5 and europe.overall.maximum == 50
    assert cohort_stats(members, filters={"region": "us", "size": "sme"}).withheld
    with pytest.raises(ValueError, match="unknown cohort filter 'colour'"):
        cohort_stats(members, filters={"colour": "red"})


def _in_workspaces(scores, workspaces):
    pairs = enumerate(zip(scores, workspaces, strict=True))
    return [Member(f"{w}:org{i}", s, {"data": s}, workspace=w) for i, (s, w) in pairs]


def test_the_viewers_own_decoys_neither_count_nor_show_in_the_instance_cohort():
    """One real organization (workspace 1, score 45) and four decoys of the viewer's (workspace 9):
    counted as five organizations, the cohort's minimum was the real one's exact score."""
    members = _in_workspaces([45, 90, 90, 90, 90], [1, 9, 9, 9, 9])
    own = Member("9:me", 90.0, {}, workspace=9)
    assert cohort_stats(members, own).overall.minimum == 45  # a workspace's cohort: as before
    stats = cohort_stats(members, own, viewer_workspaces={9})
    assert stats.withheld.startswith("This cohort has 1 organization from 1 other workspace.")
    assert stats.size == 1 and stats.overall is None and stats.percentile is None


def test_the_instance_cohort_counts_other_workspaces_not_organizations():
    members = _in_workspaces([10, 20, 30, 40, 50, 60, 70, 80], [1, 1, 1, 1, 2, 2, 3, 4])  # 8 in 4 workspaces
    stats = cohort_stats(members, viewer_workspaces={9})
    assert stats.withheld and stats.size == 8 and stats.workspaces == 4
    stats = cohort_stats([*members, *_in_workspaces([90], [5])], viewer_workspaces={9})
    assert stats.withheld is None and stats.workspaces == MIN_COHORT


def test_the_instance_cohort_gives_quartiles_but_no_minimum_or_maximum():
    """Each extreme is one organization's exact score."""
    stats = cohort_stats(_in_workspaces([10, 20, 30, 40, 50], [1, 2, 3, 4, 5]), Member("9:me", 35.0, {}),
                         viewer_workspaces={9})
    d = stats.overall
    assert (d.minimum, d.q1, d.median, d.q3, d.maximum) == (None, 20, 30, 40, None)
    assert stats.dimensions["data"].minimum is None and not stats.extremes
    assert stats.percentile == 60
