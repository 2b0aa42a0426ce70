"""The owner's figures of a round (assessment/portfolio_stats.py), on rows as portfolios.round_rows reads them."""

from assessment.portfolio_stats import summarize, unfinished


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
