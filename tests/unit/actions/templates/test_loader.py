import textwrap

import pytest

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.templates import (
    ActivityEvidence,
    CountEvidence,
    FormEvidence,
    TemplateError,
    dump_template,
    load_template,
)

MINI = textwrap.dedent(
    """\
    id: mini
    version: 1
    name: {zh: 迷你, en: Mini}
    industry: testing
    stages:
      - id: lead
        name: {zh: 线索, en: Lead}
        benchmark_dwell_hours: 48
        next: [needs_diagnosis, closed_lost]
        actions:
          - id: first_call
            name: {zh: 首次电话, en: First call}
            mandatory: true
            evidence: {kind: activity, activity: call, min_minutes: 5}
            due_offset_hours: 24
      - id: needs_diagnosis
        name: {zh: 需求诊断, en: Needs diagnosis}
        benchmark_dwell_hours: 240
        next: [proposal, closed_lost]
        actions:
          - id: needs_form
            name: {zh: 需求诊断表, en: Needs form}
            mandatory: true
            evidence:
              kind: form
              form: needs_diagnosis_form
              required_fields: [a, b, c, d, e, f, g, h, i, j]
              threshold: 0.9
            due_offset_hours: 120
          - id: pain_points
            name: {zh: 痛点提问, en: Pain points}
            mandatory: true
            evidence: {kind: count, item: pain_point_question, min_count: 3}
            due_offset_hours: 72
      - id: proposal
        name: {zh: 方案, en: Proposal}
        benchmark_dwell_hours: 120
        next: [closed_won, closed_lost]
        actions: []
      - id: closed_won
        name: {zh: 赢单, en: Won}
      - id: closed_lost
        name: {zh: 输单, en: Lost}
    """
)


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `fragment` in `text`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(hits) >= occurrence, f"{fragment!r} not in text"
    return hits[occurrence - 1]


def edit(old: str, new: str, text: str = MINI) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def problems(text: str, source: str = "mini.yaml"):
    with pytest.raises(TemplateError) as err:
        load_template(text, source)
    return err.value


def test_the_fixture_loads():
    template = load_template(MINI, "mini.yaml")
    assert template.stage_ids == ("lead", "needs_diagnosis", "proposal", "closed_won", "closed_lost")
    stage, action = template.action("needs_form")
    assert stage.id == "needs_diagnosis"
    assert action.evidence == FormEvidence("needs_diagnosis_form", tuple("abcdefghij"), 0.9)
    assert template.action("first_call")[1].evidence == ActivityEvidence(activity="call", min_minutes=5)
    assert template.action("pain_points")[1].evidence == CountEvidence("pain_point_question", 3)
    assert template.stage("lead").benchmark_dwell.total_seconds() == 48 * 3600


def test_dump_and_load_round_trip():
    template = load_template(MINI, "mini.yaml")
    again = load_template(dump_template(template), "dumped.yaml")
    assert again == template and again.fingerprint == template.fingerprint


@pytest.mark.parametrize(
    "old, new, path, fragment, words",
    [
        # threshold outside (0, 1]
        ("threshold: 0.9", "threshold: 1.5", "stages[1].actions[0].evidence.threshold", "threshold: 1.5", "at most 1"),
        ("threshold: 0.9", "threshold: 0", "stages[1].actions[0].evidence.threshold", "threshold: 0", "more than 0"),
        # negative hours
        ("due_offset_hours: 72", "due_offset_hours: -3", "stages[1].actions[1].due_offset_hours", "-3", "more than 0"),
        (
            "benchmark_dwell_hours: 240",
            "benchmark_dwell_hours: -1",
            "stages[1].benchmark_dwell_hours",
            "benchmark_dwell_hours: -1",
            "more than 0",
        ),
        # unknown evidence kind
        ("kind: count,", "kind: tally,", "stages[1].actions[1].evidence.kind", "kind: tally",
         "unknown evidence kind 'tally'"),
        # wrong types
        ("version: 1", "version: one", "version", "version: one", "must be a whole number; got the text 'one'"),
        ("mandatory: true\n        evidence: {kind: count", "mandatory: yes please\n        evidence: {kind: count",
         "stages[1].actions[1].mandatory", "yes please", "must be true or false"),
        ("min_count: 3", "min_count: 2.5", "stages[1].actions[1].evidence.min_count", "2.5", "must be a whole number"),
        ("next: [proposal, closed_lost]", "next: proposal", "stages[1].next", "next: proposal", "must be a list"),
        # evidence parameter rules
        ("activity: call, min_minutes: 5", "activity: call", "stages[0].actions[0].evidence.min_minutes",
         "kind: activity", "is required for calls"),
        # names need both languages
        ("name: {zh: 方案, en: Proposal}", "name: {zh: 方案}", "stages[2].name.en", "name: {zh: 方案}",
         "is required"),
    ],
)
def test_value_problems_name_file_line_and_key_path(old, new, path, fragment, words):
    text = edit(old, new)
    err = problems(text)
    assert err.source == "mini.yaml"
    assert err.path == path
    assert err.line == line_of(text, fragment)
    assert words in err.problem
    assert str(err).startswith(f"mini.yaml, line {err.line}: {path}: ")


def test_unknown_key_is_reported_with_a_suggestion_and_nothing_else():
    text = edit("benchmark_dwell_hours: 240", "benchmark_dwel_hours: 240")
    err = problems(text)
    assert len(err.problems) == 1
    assert err.path == "stages[1].benchmark_dwel_hours"
    assert err.line == line_of(text, "benchmark_dwel_hours")
    assert err.problem.startswith("unknown key 'benchmark_dwel_hours'; did you mean 'benchmark_dwell_hours'?")


def test_unknown_keys_anywhere():
    text = edit("threshold: 0.9", "threshold: 0.9\n          weight: 0.4")
    err = problems(text)
    assert err.path == "stages[1].actions[0].evidence.weight"
    assert err.line == line_of(text, "weight: 0.4")
    text = edit("industry: testing", "industry: testing\nauthor: me")
    assert problems(text).path == "author"


def test_missing_key_is_reported_at_the_mapping_that_lacks_it():
    text = edit("    due_offset_hours: 24\n", "")
    err = problems(text)
    assert err.path == "stages[0].actions[0].due_offset_hours"
    assert err.problem == "is required"
    assert err.line == line_of(text, "- id: first_call")


def test_duplicate_key():
    text = edit("version: 1\n", "version: 1\nversion: 2\n")
    err = problems(text)
    assert err.path == "version" and err.line == 3
    assert err.problem == "duplicate key 'version' (first at line 2)"


def test_duplicate_stage_ids():
    text = edit("  - id: proposal\n", "  - id: needs_diagnosis\n")
    err = problems(text)
    dup = [p for p in err.problems if p.path == "stages[2].id"]
    assert dup and dup[0].problem == "duplicate stage id 'needs_diagnosis' (first declared at stages[1])"
    assert dup[0].line == line_of(text, "- id: needs_diagnosis", occurrence=2)


def test_duplicate_action_id_within_a_stage():
    text = edit("- id: pain_points", "- id: needs_form")
    err = problems(text)
    assert err.path == "stages[1].actions[1].id"
    assert err.problem == "duplicate action id 'needs_form' in stage 'needs_diagnosis'"
    assert err.line == line_of(text, "- id: needs_form", occurrence=2)


def test_duplicate_action_id_across_stages():
    text = edit("- id: pain_points", "- id: first_call")
    err = problems(text)
    assert err.path == "stages[1].actions[1].id"
    assert "already used at stages[0].actions[0]; action ids are unique across the template" in err.problem


def test_next_pointing_to_an_unknown_stage():
    text = edit("next: [proposal, closed_lost]", "next: [proposl, closed_lost]")
    err = problems(text)
    assert err.path == "stages[1].next[0]"
    assert err.line == line_of(text, "proposl")
    assert err.problem.startswith("unknown stage 'proposl'; stages are: lead, needs_diagnosis, proposal")


def test_cycle_is_reported_with_its_stages():
    text = edit("next: [closed_won, closed_lost]", "next: [closed_won, lead, closed_lost]")
    err = problems(text)
    assert err.path == "stages[2].next[1]"
    assert err.line == line_of(text, "next: [closed_won, lead")
    assert err.problem == "the stage graph has a cycle: lead → needs_diagnosis → proposal → lead"


def test_self_loop_is_a_cycle():
    text = edit("next: [proposal, closed_lost]", "next: [needs_diagnosis, proposal, closed_lost]")
    assert problems(text).problem == "the stage graph has a cycle: needs_diagnosis → needs_diagnosis"


def test_unreachable_stage():
    text = edit("next: [needs_diagnosis, closed_lost]", "next: [proposal, closed_lost]")
    err = problems(text)
    assert err.path == "stages[1].id"
    assert err.line == line_of(text, "- id: needs_diagnosis")
    assert err.problem == "stage 'needs_diagnosis' cannot be reached from the first stage 'lead'"


def test_non_terminal_stage_without_next():
    text = edit("    next: [closed_won, closed_lost]\n", "")
    err = problems(text)
    assert err.path == "stages[2].next"
    assert err.line == line_of(text, "- id: proposal")
    assert "is not terminal (closed_won, closed_lost) and must list at least one next stage" in err.problem


def test_terminal_stage_cannot_move_on():
    text = edit("name: {zh: 赢单, en: Won}", "name: {zh: 赢单, en: Won}\n    next: [closed_lost]")
    err = problems(text)
    assert err.path == "stages[3].next"
    assert err.problem == "'closed_won' is a terminal stage; terminal stages have no next"


def test_missing_terminal_stages():
    text = MINI.replace("  - id: closed_won\n    name: {zh: 赢单, en: Won}\n", "").replace("closed_won, ", "")
    err = problems(text)
    assert err.path == "stages"
    assert err.problem == "every template ends in closed_won and closed_lost; missing: closed_won"


def test_several_problems_are_reported_together_in_file_order():
    text = edit("threshold: 0.9", "threshold: 2")
    text = edit("min_minutes: 5", "min_minutes: -5", text)
    err = problems(text)
    assert [p.path for p in err.problems] == [
        "stages[0].actions[0].evidence.min_minutes",
        "stages[1].actions[0].evidence.threshold",
    ]
    assert str(err).count("mini.yaml, line ") == 2


def test_invalid_yaml_names_the_line():
    text = edit("next: [proposal, closed_lost]", "next: [proposal, closed_lost")
    err = problems(text)
    opened = line_of(text, "next: [proposal, closed_lost")
    # The parser notices on the next line; the message also names where the list began.
    assert err.line == opened + 1
    assert err.path == ""
    assert err.problem.startswith("not valid YAML: expected ',' or ']'")
    assert err.problem.endswith(f"while parsing a flow sequence (started at line {opened})")


def test_empty_file_and_non_mapping_document():
    assert problems("").problem.startswith("the file is empty")
    assert problems("- a\n- b\n").problem.startswith("must be a mapping")


def test_template_error_is_an_invalid_command_naming_the_first_problem():
    err = problems(edit("threshold: 0.9", "threshold: 2"))
    assert isinstance(err, InvalidCommand)
    assert err.field == "stages[1].actions[0].evidence.threshold"


def test_approval_roles_are_checked_against_the_known_roles():
    text = edit("evidence: {kind: count, item: pain_point_question, min_count: 3}",
                "evidence: {kind: approval, approver_role: legal}")
    assert load_template(text, "mini.yaml").action("pain_points")[1].evidence.approver_role == "legal"
    with pytest.raises(TemplateError) as err:
        load_template(text, "mini.yaml", known_roles={"rep", "manager", "director"})
    assert err.value.path == "stages[1].actions[1].evidence.approver_role"
    assert err.value.line == line_of(text, "approver_role: legal")
    assert err.value.problem == (
        "unknown role 'legal': nobody could grant this approval; roles are director, manager, rep"
    )
