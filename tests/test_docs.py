"""README.md and docs/ kept in step with the code: the commands they show exist and take the options
shown, docs/cli.md documents every command and option, links lead somewhere, the tests named exist
and the JSON keys listed are the ones `sovready score` writes. No server, no rendering.

Found by following every page as a newcomer: docs/security.md named a test by a name it no longer
had, and docs/cli.md's JSON tables left out keys the command writes (`rubric`, the peer dataset).
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assessment.cli import cli
from assessment.paths import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(["README.md", *(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))])
CLI_DOC = ROOT / "docs" / "cli.md"

FENCE = re.compile(r"^ *```.*?^ *```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+ +(.+?) *$", re.M)


def _text(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def _commands(page: str) -> list[list[str]]:
    """The words after `sovready` in every command the page shows: lines of its code blocks and
    inline code, as typed (`sovready`, `.venv/bin/sovready` or after a `$` prompt)."""
    text = _text(page)
    pieces = [line for block in FENCE.findall(text) for line in block.splitlines()[1:-1]]
    pieces += INLINE.findall(FENCE.sub("", text))
    commands = []
    for piece in pieces:
        # At the start, after a prompt or a pipe, up to a pipe or a comment: not in a message
        # ("not a sovready database"); "sovready.security" or "sovready:" are no commands either.
        for found in re.finditer(r"(?:^|\$ +|\| *)(?:\S*/)?sovready +([^|#\n]*)", piece.strip()):
            commands.append(shlex.split(found.group(1).replace("...", "")))
    return commands


def _resolve(words: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """The command path the words name, its click command, and the words after it."""
    command, path = cli, []
    while words and isinstance(command, click.Group) and words[0] in command.commands:
        path.append(words[0])
        command, words = command.commands[words[0]], words[1:]
    return path, command, words


def _option_names(command: click.Command) -> set[str]:
    return {name for p in command.params if isinstance(p, click.Option) for name in [*p.opts, *p.secondary_opts]} \
        | {"--help"}


def _leaves(group: click.Group = cli, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaves(command, (*path, name))
        else:
            yield (*path, name), command


@pytest.mark.parametrize("page", PAGES)
def test_every_command_a_page_shows_exists_with_the_options_shown(page):
    wrong = []
    for words in _commands(page):
        path, command, rest = _resolve(words)
        if isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
            wrong.append(f"sovready {' '.join(words)}: no command {rest[0]!r}")
        for word in rest:
            option = word.strip("[]").split("=")[0]
            if re.fullmatch(r"--?[a-z][a-z-]*", option) and option not in _option_names(command):
                wrong.append(f"sovready {' '.join(words)}: {' '.join(['sovready', *path])} has no {option}")
    assert wrong == []


def _sessions() -> list[tuple[str, list[str], str]]:
    """Every code block that shows a command after a `$` prompt, then what it prints."""
    sessions = []
    for page in PAGES:
        for block in FENCE.findall(_text(page)):
            lines = block.splitlines()[1:-1]
            if lines and lines[0].startswith("$ sovready "):
                sessions.append((page, shlex.split(lines[0].removeprefix("$ sovready ")), "\n".join(lines[1:]) + "\n"))
    return sessions


@pytest.mark.parametrize(("page", "words", "printed"), _sessions(), ids=lambda value: str(value)[:40])
def test_a_command_shown_with_its_output_prints_that(page, words, printed, monkeypatch):
    """docs/cli.md's rubric summary, run from the repository's folder as the page runs it."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, words)
    assert (result.exit_code, result.output) == (0, printed)


def _cli_sections() -> dict[str, str]:
    """docs/cli.md's sections by the command their heading names (`## sovready peers show`)."""
    parts = re.split(r"^## sovready (.+)$", _text("docs/cli.md"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("path", [" ".join(path) for path, _ in _leaves()])
def test_cli_md_documents_every_command_and_its_options(path):
    sections = _cli_sections()
    assert path in sections, f"docs/cli.md has no section '## sovready {path}'"
    command = _resolve(path.split())[1]
    undocumented = [p.opts for p in command.params if isinstance(p, click.Option)
                    and not any(f"{name}" in sections[path] for name in p.opts)]
    assert undocumented == []


def test_cli_md_documents_the_top_level_options():
    intro = _text("docs/cli.md").split("\n## ")[0]
    assert all(name in intro for name in _option_names(cli))


def test_cli_md_has_no_section_for_a_command_that_does_not_exist():
    assert [path for path in _cli_sections() if _resolve(path.split())[2]] == []


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    slugs = [re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
             for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8")))]
    return {f"{slug}-{slugs[:i].count(slug)}" if slug in slugs[:i] else slug for i, slug in enumerate(slugs)}


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_leads_to_a_file_and_heading(page):
    broken = []
    for target in LINK.findall(FENCE.sub("", _text(page))):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (ROOT / page).parent / file if file else ROOT / page
        if not linked.exists() or (anchor and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == []


def _test_names() -> dict[str, set[str]]:
    return {p.name: set(re.findall(r"^def (test_\w+)", p.read_text(encoding="utf-8"), re.M))
            for p in (ROOT / "tests").rglob("test_*.py")}


@pytest.mark.parametrize("page", PAGES)
def test_every_test_a_page_names_exists(page):
    """docs/security.md named `test_workshops.py::test_wrong_codes_are_rate_limited_per_address`,
    a test that had since been renamed."""
    names = _test_names()
    every = set().union(*names.values())
    text = _text(page)
    missing = [f"{file}::{name}" for file, name in re.findall(r"(test_\w+\.py)::(test_\w+)", text)
               if name not in names.get(file, set())]
    missing += [name for name in re.findall(r"`(test_\w+)`", text) if name not in every]
    assert missing == []


def _table_keys(section: str, heading: str) -> dict[str, str]:
    """The rows of the table whose header is ``| heading | content |``: each key named in the first
    column, with the row's content."""
    table = section.split(f"| {heading} | content |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split(" | ", 1) for line in table.splitlines() if line.startswith("| `")]
    return {key: content for first, content in rows for key in re.findall(r"`(\w+)`", first)}


@pytest.fixture(scope="module")
def scored() -> dict:
    result = CliRunner().invoke(cli, ["score", str(EXAMPLES / "mid-enterprise.yaml"), "--peers", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_score_json_keys_are_the_ones_cli_md_lists(scored):
    section = _cli_sections()["score"]
    top, peers = _table_keys(section, "key"), _table_keys(section, "key under `peers`")
    assert set(top) == set(scored)
    assert set(peers) == set(scored["peers"])
    for rows, result in [(top, scored), (peers, scored["peers"])]:
        for key, value in result.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                assert set(value[0]) - set(re.findall(r"`(\w+)`", rows[key])) == set(), key


def test_the_peers_show_json_keys_are_the_ones_cli_md_lists():
    rows = json.loads(CliRunner().invoke(cli, ["peers", "show", "--format", "json"]).output)
    assert set(rows[0]) - set(re.findall(r"`(\w+)`", _cli_sections()["peers show"])) == set()


BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__")


def _bench(name: str, *words: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"bench.{name}", *words], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("name", BENCHES)
def test_every_bench_script_answers_help_with_its_usage_and_runs_nothing(name):
    """`python -m bench.scoring --help` was a ValueError traceback, and `bench.scale --help` seeded and
    timed a whole instance; two usage lines showed `python bench/cohorts.py`, which cannot import `bench`."""
    run = _bench(name, "--help")
    assert (run.returncode, run.stderr) == (0, ""), run.stderr
    assert f"python -m bench.{name}" in run.stdout, "the usage line names how to run it: python -m bench.NAME"


@pytest.mark.parametrize("name", [name for name in BENCHES if name != "scale"])
def test_a_bench_argument_that_is_no_number_is_a_usage_line_not_a_traceback(name):
    run = _bench(name, "many")
    assert run.returncode == 2
    assert run.stderr.startswith(f"usage: .venv/bin/python -m bench.{name}"), run.stderr


def _codes(page: str) -> list[str]:
    """Everything the page shows as code: inline spans and the lines of its code blocks."""
    text = _text(page)
    return INLINE.findall(FENCE.sub("", text)) + [line for block in FENCE.findall(text)
                                                  for line in block.splitlines()[1:-1]]


@pytest.fixture(scope="module")
def url_map(tmp_path_factory):
    from assessment.web import create_app

    return create_app({"TESTING": True}, instance_path=tmp_path_factory.mktemp("docs")).url_map


@pytest.mark.parametrize("page", PAGES)
def test_every_address_a_page_names_is_a_route(page, url_map):
    """`/a/<id>/report.pdf`, `/w/<id>/audit.csv`: each must still answer (any method), with any id."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    firsts = {rule.rule.split("/")[1] for rule in url_map.iter_rules()}
    adapter, unknown = url_map.bind("localhost"), []
    for address in re.findall(r"(?:^|\s)(/[\w.-]+(?:/[^\s`?]*)?)", " ".join(_codes(page))):
        if address.split("/")[1] not in firsts:
            continue  # /usr/bin/chromium, /proc/PID/statm: not the app's
        if address.endswith("/..."):  # "/a/<id>/...": any address under it
            prefix = re.sub(r"<[^>]+>", "1", address.removesuffix("..."))
            if not any(re.sub(r"<[^>]+>", "1", rule.rule).startswith(prefix) for rule in url_map.iter_rules()):
                unknown.append(address)
            continue
        try:
            adapter.match(re.sub(r"<[^>]+>|\.\.\.", "1", address))
        except MethodNotAllowed:
            pass
        except NotFound:
            unknown.append(address)
    assert unknown == [], f"{page} names addresses that no route answers"


def _migrations() -> set[str]:
    return set(re.findall(r'@migrations\(name="(\w+)"\)', (ROOT / "assessment" / "storage.py").read_text()))


@pytest.mark.parametrize("page", PAGES)
def test_every_migration_a_page_names_exists(page):
    named = set(re.findall(r"\b\d{3}_[a-z]\w*", " ".join(_codes(page))))
    assert named - _migrations() == set(), f"{page} names migrations that assessment/storage.py does not have"


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("page", PAGES)
def test_every_make_target_a_page_names_exists(page):
    named = {found for code in _codes(page) for found in re.findall(r"(?:^|\s)make ([a-z][\w-]*)", code)}
    assert named - _make_targets() == set(), f"{page} names make targets the Makefile does not have"


def test_the_readme_names_every_make_target():
    named = {found for code in _codes("README.md") for found in re.findall(r"(?:^|\s)make ([a-z][\w-]*)", code)}
    assert _make_targets() - named == set(), "README.md does not say what these make targets do"
