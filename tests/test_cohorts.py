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
