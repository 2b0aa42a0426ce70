"""The owner's figures of a round (assessment/portfolio_stats.py), on rows as portfolios.round_rows reads them."""

from assessment.portfolio_stats import agency_page, group_medians, summarize, unfinished


def _row(agency_id: int, overall: float | None, finished: bool = True, **dimensions) -> dict:
    return {"id": agency_id, "name": f"Agency {agency_id}", "type": "", "size": "", "overall": overall,
            "dimensions": dimensions, "finished": finished}


def test_changes_between_rounds_are_over_the_agencies_finished_in_both():
    """Found by an audit: the medians of two different sets of agencies were subtracted, so a late
    joiner or an agency that left showed as a change of everyone's median."""
    now = [_row(1, 50, data=50), _row(2, 100, data=100), _row(3, 0, finished=False)]  # 2 joined late
    before = [_row(1, 40, data=30), _row(3, 90, data=90)]  # 3 has not finished this round
    summary = summarize(now, before, ["data"], [], [])
    assert summary.compared == 1
    assert summary.median_delta == 10 and summary.dimension_deltas == {"data": 20}
    assert summary.deltas == {1: 10}


def test_a_dimension_change_leaves_out_agencies_not_scored_on_it_in_either_round():
    now = [_row(1, 50, data=50), _row(2, 60, data=None)]
    before = [_row(1, 40, data=40), _row(2, 50, data=10)]
    summary = summarize(now, before, ["data"], [], [])
    assert summary.compared == 2 and summary.dimension_deltas == {"data": 10}


def test_without_a_previous_round_nothing_is_compared():
    summary = summarize([_row(1, 50, data=50)], [], ["data"], [], [])
    assert summary.compared == 0 and summary.median_delta is None and summary.dimension_deltas == {"data": None}


def test_the_agencies_left_out_are_split_into_not_started_and_in_progress_by_name():
    rows = [{"name": name, "finished": finished, "answered": answered} for name, finished, answered in (
        ("delta", False, 3), ("Alpha", True, 30), ("charlie", False, None), ("Bravo", False, 0), ("Echo", False, 29))]
    not_started, in_progress = unfinished(rows)
    assert [r["name"] for r in not_started] == ["Bravo", "charlie"]  # nothing answered; no assessment
    assert [r["name"] for r in in_progress] == ["delta", "Echo"]


def _agencies() -> list[dict]:
    """Five agencies: three finished, one in progress, one not joined; types and sizes partly empty."""
    rows = [_row(1, 40.0), _row(2, 70.0), _row(3, 55.0), _row(4, None, finished=False), _row(5, None, finished=False)]
    for row, name, type_, answered in zip(rows, ("Tax office", "health ministry", "Statistics", "Customs",
                                                 "Health regulator"), ("b", "a", "", "c", "a"), (48, 48, 48, 12, None), strict=True):
        row.update(name=name, type=type_, answered=answered, total=48 if answered is not None else None)
    return rows


def _names(page) -> list[str]:
    return [r["name"] for r in page.rows]


def test_a_page_of_agencies_is_sorted_searched_and_ranked_by_index():
    summary = summarize(_agencies(), [_row(1, 50.0), _row(2, 60.0)], [], [], [])
    by_name = agency_page(summary, "", "name", False, 1, size=2)
    assert _names(by_name) == ["Customs", "health ministry"] and (by_name.number, by_name.pages) == (1, 3)
    assert [r["rank"] for r in by_name.rows] == [None, 1]  # ranked among the finished, by index
    by_index = agency_page(summary, "", "index", True, 1, size=10)
    assert _names(by_index) == ["health ministry", "Statistics", "Tax office", "Customs", "Health regulator"]
    lowest = agency_page(summary, "", "index", False, 1, size=10)  # the unscored stay last either way
    assert _names(lowest) == ["Tax office", "Statistics", "health ministry", "Customs", "Health regulator"]
    assert _names(agency_page(summary, "", "change", True, 1, size=10))[:2] == ["health ministry", "Tax office"]
    assert _names(agency_page(summary, "", "type", False, 1, size=10)) == [
        "health ministry", "Health regulator", "Tax office", "Customs", "Statistics"]  # ties by name; no type last
    assert _names(agency_page(summary, "", "answered", True, 1, size=10))[-2:] == ["Customs", "Health regulator"]


def test_a_search_finds_names_ignoring_case_and_a_page_past_the_end_is_the_last():
    summary = summarize(_agencies(), [], [], [], [])
    found = agency_page(summary, " HEALTH ", "name", False, 9, size=1)
    assert (found.matching, found.pages, found.number) == (2, 2, 2) and _names(found) == ["Health regulator"]
    nothing = agency_page(summary, "nowhere", "name", False, 0, size=1)
    assert (nothing.rows, nothing.matching, nothing.pages, nothing.number) == ([], 0, 1, 1)


def test_the_groups_of_a_large_heatmap_are_each_type_then_each_size_with_their_medians():
    rows = [{**_row(n, None, data=score), "type": kind, "size": size}
            for n, (score, kind, size) in enumerate([(10, "ministry", "small"), (30, "ministry", "large"),
                                                     (80, "regulator", "small"), (None, "", "small")])]
    assert group_medians(rows, ["data"]) == [
        {"name": "type ministry (2)", "dimensions": {"data": 20}},
        {"name": "type regulator (1)", "dimensions": {"data": 80}},
        {"name": "size large (1)", "dimensions": {"data": 30}},
        {"name": "size small (3)", "dimensions": {"data": 45}}]  # the unscored left out of the median
