"""The shipped rubric's content, and the loader's refusal of broken rubrics."""

import pytest

from assessment.datafile import DataFileError
from assessment.rubric import HORIZONS, load_rubric


def test_shipped_rubric_has_eight_dimensions_of_five_to_seven_questions(rubric):
    assert [d.id for d in rubric.dimensions] == [
        "strategy", "data", "security", "open_stack", "transparency", "talent", "collaboration", "governance"]
    assert all(5 <= len(d.questions) <= 7 for d in rubric.dimensions)
    assert len(rubric.questions) >= 40


def test_every_question_has_distinct_levels_and_steps_with_horizons(rubric):
    for question in rubric.questions.values():
        assert len(set(question.levels.values())) == 5, question.id
        assert all(step.horizon in HORIZONS for step in question.next_steps.values())
        assert question.help and question.drivers, question.id


def test_every_survey_finding_is_used_by_a_rubric_item(rubric, peers):
    used = {f for q in rubric.questions.values() for f in q.findings}
    used |= {item.peer_link.finding for item in [*rubric.drivers, *rubric.barriers] if item.peer_link}
    assert peers.finding_ids - used == set()


def test_every_question_finding_is_known(rubric, peers):
    for question in rubric.questions.values():
        assert set(question.findings) <= peers.finding_ids, question.id


def test_drivers_and_report_barriers_link_to_their_figures(rubric, peers):
    assert {d.id for d in rubric.drivers} == {
        "data_control", "national_security", "economic_competitiveness", "regulatory_compliance",
        "cultural_alignment"}
    for driver in rubric.drivers:
        assert peers.figure(driver.peer_link.finding, driver.peer_link.option), driver.id
    measured = {b.id for b in rubric.barriers if b.peer_link}
    assert measured == {"data_quality", "expertise_shortage", "resource_constraints", "ip_concerns",
                        "geopolitical_tensions"}
    for barrier in rubric.barriers:
        assert barrier.mitigation
        if not barrier.peer_link:
            assert "No published survey figure" in barrier.description, barrier.id


def test_dimensions_without_a_linked_question_have_no_percentile(rubric):
    assert [d.id for d in rubric.unlinked_dimensions] == [
        d.id for d in rubric.dimensions if all(q.peer_link is None for q in d.questions)]
    assert 0 < len(rubric.unlinked_dimensions) < len(rubric.dimensions)


def test_profile_covers_the_cohort_fields(rubric):
    fields = {f.id: {o.id for o in f.options} for f in rubric.profile}
    assert set(fields) == {"org_type", "region", "size", "sector", "role"}
    assert fields["region"] == {"us", "other_americas", "europe", "apac", "mea"}
    assert len(fields["org_type"]) == 7


def test_stages_and_weakest_link_are_in_the_rubric(rubric):
    assert [s.min_score for s in rubric.stages] == sorted(s.min_score for s in rubric.stages)
    assert len(rubric.stages) == 5
    assert any(q.critical for q in rubric.questions.values())


def _set(path, value):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def _delete(path):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


def _duplicate_question(data):
    data["dimensions"][2]["questions"][4]["id"] = data["dimensions"][0]["questions"][1]["id"]


BROKEN = [
    (_set(["dimensions", 2, "questions", 4, "weight"], 0),
     "rubric.yaml: dimensions[2].questions[4].weight: must be > 0"),
    (_set(["dimensions", 1, "questions", 0, "colour"], "red"),
     "rubric.yaml: dimensions[1].questions[0].colour: unknown key"),
    (_duplicate_question,
     "rubric.yaml: dimensions[2].questions[4].id: duplicate id 'strategy.objectives' "
     "(first at dimensions[0].questions[1])"),
    (_delete(["dimensions", 0, "questions", 0, "levels", 3]),
     "rubric.yaml: dimensions[0].questions[0].levels: must define levels 0 to 4 (missing 3)"),
    (_delete(["dimensions", 0, "questions", 0, "next_steps", 0]),
     "rubric.yaml: dimensions[0].questions[0].next_steps: must define next steps for levels 0 to 3 (missing 0)"),
    (_set(["dimensions", 3, "questions", 1, "findings"], ["made.up"]),
     "rubric.yaml: dimensions[3].questions[1].findings: unknown finding 'made.up'"),
    (_set(["dimensions", 3, "questions", 1, "drivers"], ["weather"]),
     "rubric.yaml: dimensions[3].questions[1].drivers: unknown driver 'weather'"),
    # Repeats in a list of ids were kept and then counted once (a driver's factor, a barrier's
    # dimensions) or shown twice (a question's findings), without a word.
    (_set(["dimensions", 3, "questions", 1, "drivers"], ["data_control", "economic_competitiveness", "data_control"]),
     "rubric.yaml: dimensions[3].questions[1].drivers[2]: duplicate driver 'data_control' (first at "
     "dimensions[3].questions[1].drivers[0])"),
    (_set(["dimensions", 3, "questions", 1, "findings"], ["approaches", "approaches"]),
     "rubric.yaml: dimensions[3].questions[1].findings[1]: duplicate finding 'approaches'"),
    (_set(["barriers", 2, "dimensions"], ["strategy", "talent", "strategy"]),
     "rubric.yaml: barriers[2].dimensions[2]: duplicate dimension 'strategy' (first at barriers[2].dimensions[0])"),
    (_set(["version"], "1.0"),
     "rubric.yaml: version: must be a version of three numbers, MAJOR.MINOR.PATCH, such as 1.0.0"),
    (_set(["dimensions", 0, "questions", 0, "peer_link", "option"], "Maybe"),
     "rubric.yaml: dimensions[0].questions[0].peer_link: no figure 'priority.valuable' / 'Maybe'"),
    (_set(["weakest_link", "cap_stage"], "stellar"),
     "rubric.yaml: weakest_link.cap_stage: unknown stage 'stellar'"),
    # Scoring finds an index's stage by the stages' thresholds: below the first, or out of order, none is found.
    (_set(["stages", 0, "min_score"], 5), "rubric.yaml: stages[0].min_score: the first stage must start at 0"),
    (_set(["stages", 2, "min_score"], 20),
     "rubric.yaml: stages[2].min_score: stages must be in increasing order of min_score"),
    (_set(["default_importance"], "vital"), "rubric.yaml: default_importance: unknown importance 'vital'"),
    (_set(["dimensions", 0, "questions", 0, "next_steps", 1, "horizon"], "soon"),
     "rubric.yaml: dimensions[0].questions[0].next_steps[1].horizon: input should be 'now', 'next' or 'later'"),
    (_delete(["dimensions", 0, "title"]), "rubric.yaml: dimensions[0].title: is required"),
    # Infinity passed "> 0" and then broke scoring (no stage reached); 1e308 overflowed the index.
    (_set(["dimensions", 1, "weight"], float("inf")), "rubric.yaml: dimensions[1].weight: input should be a finite number"),
    (_set(["dimensions", 1, "questions", 0, "weight"], 1e308),
     "rubric.yaml: dimensions[1].questions[0].weight: must be <= 1000"),
    (_set(["importance", 0, "factor"], 1001), "rubric.yaml: importance[0].factor: must be <= 1000"),
    (_set(["table_stakes", "factor"], float("nan")), "rubric.yaml: table_stakes.factor: input should be a finite number"),
    (_set(["stages", 1, "min_score"], float("nan")), "rubric.yaml: stages[1].min_score: input should be a finite number"),
    (_set(["dimensions", 0, "questions", 0, "levels"], {"0": "a", 1: "b", 2: "c", 3: "d", 4: "e"}),
     "rubric.yaml: dimensions[0].questions[0].levels: key '0': input should be a valid integer"),
    # A missing dataset was "nope.yaml: no such file", naming neither the rubric nor its key; a path was followed.
    (_set(["peers"], "nope"), "rubric.yaml: peers: unknown peer dataset 'nope' (no file peers/nope.yaml)"),
    (_set(["peers"], "../../etc/passwd"), "rubric.yaml: peers: must be lowercase letters, digits, '.', '_' and '-'"),
    (_set(["peers"], "sub/lf-sovereign-ai-2025"), "rubric.yaml: peers: must be lowercase letters, digits, '.', '_'"),
    (_set(["id"], "../evil"), "rubric.yaml: id: must be lowercase letters, digits, '.', '_' and '-', beginning with "
                              "a letter or digit (it names a file: no '/')"),
    (_set(["dimensions", 0, "questions", 0, "id"], "Strategy/Mandate"),
     "rubric.yaml: dimensions[0].questions[0].id: must be lowercase letters, digits and '_', in parts joined by '.'"),
    (_set(["source", "url"], "javascript:alert(1)"), "rubric.yaml: source.url: must be an http:// or https:// address"),
    (_set(["source", "licence_url"], " https://x.org"),
     "rubric.yaml: source.licence_url: must be an http:// or https:// address"),
]


@pytest.mark.parametrize("edit, message", BROKEN)
def test_broken_rubric_is_refused_with_file_path_and_problem(write_rubric, edit, message):
    with pytest.raises(DataFileError) as error:
        load_rubric(write_rubric(edit))
    assert message in str(error.value)


def test_every_problem_is_reported_not_just_the_first(write_rubric):
    def edit(data):
        data["dimensions"][0]["questions"][0]["weight"] = -1
        data["dimensions"][5]["questions"][2]["weight"] = 0
    with pytest.raises(DataFileError) as error:
        load_rubric(write_rubric(edit))
    assert len(error.value.problems) == 2


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("id: a\nversion: 1.0.0\nid: b\n")
    with pytest.raises(DataFileError, match=r"dup.yaml: line 3, column 1: invalid YAML: duplicate key 'id'"):
        load_rubric(path)


@pytest.mark.parametrize("key", ["[a, b]", "{a: 1}"])
def test_a_list_or_mapping_as_a_yaml_key_is_refused_with_its_line(tmp_path, key):
    """Found by hostile-input probing of the rubric upload and the answers import: it was a TypeError, a 500."""
    path = tmp_path / "key.yaml"
    path.write_text(f"id: a\n? {key}\n: 1\n")
    with pytest.raises(DataFileError, match=r"key.yaml: line 2, column 3: invalid YAML: found unhashable key"):
        load_rubric(path)


@pytest.mark.parametrize("depth", [900, 10_000])
def test_deeply_nested_yaml_is_refused(tmp_path, depth):
    """Found by hostile-input probing: a list 900 deep as a mapping key was a RecursionError, a 500 on upload."""
    path = tmp_path / "deep.yaml"
    path.write_text(f"? {'[' * depth}{']' * depth}\n: 1\n")
    with pytest.raises(DataFileError, match=r"deep.yaml: .*(nested too deeply|exceeded maximum nesting depth)"):
        load_rubric(path)


@pytest.mark.parametrize("content, message", [
    (b"id: [unclosed\n", "invalid YAML"),
    (b"- just\n- a list\n", "must be a mapping of keys to values at the top level"),
    (b"\xff\xfe\x00bad", "is not UTF-8 text"),
])
def test_unreadable_rubric_files_get_a_plain_message(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        load_rubric(path)


def test_missing_rubric_file(tmp_path):
    with pytest.raises(DataFileError, match="nothere.yaml: no such file"):
        load_rubric(tmp_path / "nothere.yaml")


def test_custom_rubric_without_peers_loads(write_rubric):
    """Another consultant's framework: no peer dataset, so no findings or peer links."""
    def edit(data):
        data["id"] = "acme-framework"
        del data["peers"]
        for item in [*data["drivers"], *data["barriers"]]:
            item.pop("peer_link", None)
        for dimension in data["dimensions"]:
            for question in dimension["questions"]:
                question["findings"] = []
                question.pop("peer_link", None)
    rubric = load_rubric(write_rubric(edit))
    assert rubric.id == "acme-framework" and rubric.peers is None


def test_custom_rubric_cannot_cite_findings_without_peers(write_rubric):
    with pytest.raises(DataFileError, match="unknown finding 'priority.valuable'"):
        load_rubric(write_rubric(_delete(["peers"])))
