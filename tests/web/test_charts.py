"""The SVG charts: server-rendered, labelled, and ready for a peer reference series."""

import math
import re
from types import SimpleNamespace

import pytest

from assessment.charts import CHAR_WIDTH, RADAR_CENTER, heatmap_layout, polar, radar_labels, text_width

DIMENSIONS = [SimpleNamespace(id=f"d{i}", title=f"Dimension {i}", score=score)
              for i, score in enumerate([100, 50, None, 0, 75])]


@pytest.fixture
def charts(app):
    with app.app_context():
        env = app.jinja_env
        yield (env.get_template("charts/_radar.svg").module, env.get_template("charts/_bars.svg").module)


def test_radar_has_a_title_an_axis_per_dimension_and_no_peer_series_by_default(charts):
    svg = str(charts[0].radar(DIMENSIONS))
    assert 'role="img"' in svg and "<title id=\"radar-title\">Readiness by dimension</title>" in svg
    assert svg.count("<line ") == len(DIMENSIONS) and 'class="peer"' not in svg
    assert all(f">Dimension {i}</tspan>" in svg for i in range(len(DIMENSIONS)))


def test_radar_says_which_dimension_is_not_scored_rather_than_drawing_a_silent_0(charts):
    """Found by an audit of the PDF: an unscored dimension's point sat at the centre, read as 0."""
    svg = str(charts[0].radar(DIMENSIONS))
    assert re.search(r">Dimension 2</tspan><tspan [^>]*>\(not scored\)</tspan>", svg)
    assert svg.count("(not scored)") == 1


def test_the_pdfs_larger_radar_labels_keep_their_room(charts):
    """Larger labels in the chart's own units (the PDF's) get room beside and above the chart, and the
    rings' labels grow with them."""
    web, pdf = str(charts[0].radar(DIMENSIONS)), str(charts[0].radar(DIMENSIONS, label_size=22, label_width=16))
    assert 'viewBox="-95 40 710 440"' in web and 'font-size="14"' in web and 'font-size="10"' in web
    assert 'viewBox="-133 24 786 472"' in pdf and 'font-size="22"' in pdf and 'font-size="15.7"' in pdf


def test_a_radar_label_above_or_below_the_chart_as_wide_as_its_neighbours_gap_moves_out_half_a_line():
    """The PDF's labels at 31 units: "Transparency and" below the chart touched "capability" beside it."""
    titles = ["Top", "Right top", "Right", "Right bottom", "Transparency and accountability", "Left bottom", "Left", "Left top"]
    small, large = (radar_labels(titles, [50] * 8, size, 16) for size in (14, 31))
    assert small[4].y == polar(4, 8, 100, 168)[1] and small[0].y == polar(0, 8, 100, 168)[1]
    assert large[4].y == polar(4, 8, 100, 193.5)[1] + 35 / 2 and large[4].last_y == large[4].y + 35
    assert large[0].y == polar(0, 8, 100, 193.5)[1]  # "Top" is narrow: it stays


def test_radar_draws_the_peer_reference_as_a_second_series(charts):
    peer = {"d0": 40, "d1": None, "d2": 60, "d3": 80, "d4": 20}
    svg = str(charts[0].radar(DIMENSIONS, peer))
    assert svg.count('class="peer"') == 4  # d1 has no reference
    assert "median survey peer on each dimension’s linked questions only" in svg
    x, y = polar(2, 5, 60)
    assert f'd="M{x},{y - 6} ' in svg


def test_radar_points_start_at_the_top_and_scale_with_the_score():
    assert polar(0, 8, 100) == (RADAR_CENTER, RADAR_CENTER - 150)
    assert polar(0, 8, 0) == polar(3, 8, None) == (RADAR_CENTER, RADAR_CENTER)


def test_bars_mark_the_peer_reference_where_there_is_one(charts):
    svg = str(charts[1].bars(DIMENSIONS, {"d0": 50, "d1": None}))
    assert svg.count('class="peer"') == 1
    assert "median survey peer on each dimension’s linked questions only" in svg


def test_bars_write_each_value_and_mark_unscored_dimensions(charts):
    svg = str(charts[1].bars(DIMENSIONS))
    assert 'role="img"' in svg and svg.count("<rect ") == 4 and "not scored" in svg and ">75.0</text>" in svg


def _value_label_x(svg: str, value: str) -> float:
    """Where the bar's value is written (the axis' labels are in 11-point type)."""
    return float(re.search(rf'<text x="([\d.]+)"[^>]* font-size="12"[^>]*>{value}</text>', svg).group(1))


def _tick_x(svg: str) -> float:
    return float(re.search(r'<line class="peer" x1="([\d.]+)"', svg).group(1))


def test_a_bar_value_never_sits_under_the_peer_tick(charts):
    near = [SimpleNamespace(id="d", title="D", score=50)]
    svg = str(charts[1].bars(near, {"d": 52}))  # the tick falls where the value would be written
    assert _value_label_x(svg, "50.0") > _tick_x(svg) + 3
    svg = str(charts[1].bars(near, {"d": 90}))  # a tick far beyond the bar leaves it alone
    assert _value_label_x(svg, "50.0") < _tick_x(svg) - 60


LONG = [SimpleNamespace(id="g", title="Global collaboration and community", score=40),
        SimpleNamespace(id="x", title="Interoperability, portability and exit planning for every critical supplier",
                        score=60)]


def _label_lines(svg: str) -> list[str]:
    """The dimension labels' lines (13-point type), one-line labels and tspans alike."""
    labels = re.findall(r'<text [^>]*font-size="13"[^>]*>(.*?)</text>', svg, re.S)
    return [line for label in labels for line in (re.findall(r"<tspan[^>]*>(.*?)</tspan>", label) or [label])]


@pytest.mark.parametrize("chart", ["bars", "boxplot"])
def test_long_dimension_names_wrap_inside_the_label_column(app, chart):
    """A label longer than the 252-unit column was clipped at the left (".obal collaboration…")."""
    with app.app_context():
        module = app.jinja_env.get_template(f"charts/_{chart}.svg").module
        svg = str(module.bars(LONG) if chart == "bars" else module.boxplot(LONG, {}))
    lines = _label_lines(svg)
    assert lines[:2] == ["Global collaboration and", "community"]
    assert len(lines) == 4 and lines[3].endswith("…")  # at most two lines, the rest in the title
    assert "<title>Interoperability, portability and exit planning for every critical supplier</title>" in svg
    assert all(len(line) * 13 * CHAR_WIDTH <= 260 - 8 for line in lines)


def _heatmap(app, rows, dimensions):
    with app.app_context():
        return str(app.jinja_env.get_template("charts/_agency_heatmap.svg").module.heatmap(rows, dimensions, ranks=range(1, len(rows) + 1)))


def test_the_agency_heatmap_has_room_for_every_name_and_a_colour_key(app):
    titles = ["Strategy and priority", "Transparency and accountability", "Global collaboration and community",
              "Governance and stakeholders, in every agency and every ministry of the state"]
    dimensions = [SimpleNamespace(id=f"d{i}", title=title) for i, title in enumerate(titles)]
    rows = [SimpleNamespace(name="Data Protection Regulator", dimensions={"d0": 10, "d1": 90}),
            SimpleNamespace(name="Ministry of Digital Affairs and of the Modernisation of the State",
                            dimensions={"d2": 50})]
    svg = _heatmap(app, rows, dimensions)
    width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    heads = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" transform="rotate\(-45[^"]*" font-size="10"[^>]*>(.*?)</text>',
                       svg)
    assert [h[2] for h in heads[:3]] == titles[:3]  # whole, not cut at 24 characters
    assert heads[3][2].endswith("…") and f"<title>{titles[3]}</title>" in svg
    for x, y, head in heads:  # a 45° label runs as far up as it runs right
        reach = len(head) * 10 * CHAR_WIDTH * math.sqrt(0.5)
        assert float(x) + reach <= width and float(y) - reach >= 0
    names = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end" font-size="11"[^>]*>(.*?)</text>', svg)
    assert names[0][1] == "1. Data Protection Regulator" and names[1][1].endswith("…")
    assert "<title>Ministry of Digital Affairs and of the Modernisation of the State</title>" in svg
    assert "<title>Data Protection Regulator</title>" not in svg  # whole: no title needed
    assert all(text_width(name, 11) <= float(x) for x, name in names)
    key = re.findall(r'<g class="key">(.*?)</g>', svg, re.S)[0]
    assert re.findall(r">([^<>]+)</text>", key) == ["Score", "0 to 19", "20 to 39", "40 to 59", "60 to 79",
                                                     "80 to 100", "not scored"]


def test_wide_characters_count_a_whole_em():
    """Found by an audit: Chinese and Japanese names were measured at 0.62 em a character, so their
    labels ran out of the drawing."""
    assert text_width("国家互联网", 10) == 50 and text_width("cases", 10) == pytest.approx(5 * 10 * CHAR_WIDTH)


def test_wide_letters_count_their_width_in_the_bundled_font():
    """Capitals, m and w, Cyrillic's Ш and Ж are wider than 0.62 em: a name in capitals ran out of the
    agency heatmap's left edge."""
    assert text_width("W", 10) == pytest.approx(9.89, abs=0.01) and text_width("Ж", 10) == pytest.approx(10.77, abs=0.01)
    assert text_width("МИНИСТЕРСТВО", 10) > 12 * 10 * CHAR_WIDTH * 1.1


def test_agency_labels_are_cut_by_width_and_numbered_by_rank():
    """Found by an audit: long names sharing their beginning were cut to the same label, identical rows."""
    names = ["国家互联网信息办公室数据安全与个人信息保护司人工智能治理处 000",
             "Ministry of Digital Development, Communications and Mass Media 001",
             "Ministry of Digital Development, Communications and Mass Media 002", "Tax office"]
    layout = heatmap_layout(names, ["Strategy"], ranks=range(37, 41))
    assert [label.split(". ")[0] for label in layout.names] == ["37", "38", "39", "40"]
    assert len(set(layout.names)) == len(names)
    assert layout.cut == [True, True, True, False] and layout.names[3] == "40. Tax office"
    assert all(text_width(label, 11) <= 34 * CHAR_WIDTH * 11 for label in layout.names)
    assert all(text_width(label, 11) + 14 <= layout.left for label in layout.names)


@pytest.mark.parametrize("peer", [None, 0, 5, 30, 39, 40, 70, 100])
def test_the_box_plot_writes_too_few_agencies_clear_of_the_peer_tick(app, peer):
    """The dashed peer tick crossed the words where a dimension had too few scores for a box."""
    dimensions = [SimpleNamespace(id="d", title="Data sovereignty")]
    with app.app_context():
        svg = str(app.jinja_env.get_template("charts/_boxplot.svg").module.boxplot(dimensions, {}, {"d": peer}))
    x, note = re.search(r'<text x="([\d.]+)"[^>]*font-size="12"[^>]*>([^<]+)</text>', svg).groups()
    start, end = float(x), float(x) + len(note) * 12 * CHAR_WIDTH
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    assert 260 < start and end <= width
    if peer is not None:
        tick = float(re.search(r'<line class="peer" x1="([\d.]+)"', svg).group(1))
        assert not start - 2 <= tick <= end + 2
