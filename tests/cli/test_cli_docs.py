"""The CLI documents itself: help with an Example block everywhere, and a checked-in reference page.

As sqlite-utils' ``test_docs.py``: every command has help and an example, ``docs/cli-reference.md`` is what
``python -m mxicat.cli.docs`` renders now, and ``docs/index.md`` maps the docs folder.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mxicat.cli import cli, walk
from mxicat.cli.docs import REGENERATE, command_help, render

DOCS = Path(__file__).resolve().parents[2] / "docs"
COMMANDS = [(name, cmd) for name, cmd in walk(cli) if not cmd.hidden]
NAMES = [name for name, _ in COMMANDS]


def _examples(command: click.Command) -> list[str]:
    """The non-empty lines after ``Example:`` in the command's docstring (without click's \\b marker)."""
    _, marker, after = inspect.cleandoc(command.help or "").partition("Example:")
    return [line.strip() for line in after.splitlines() if line.strip() and line.strip() != "\b"] if marker else []


def test_the_tree_is_walked() -> None:
    assert NAMES[0] == "mxicat"
    assert {"mxicat harvest", "mxicat icat import", "mxicat ontology list", "mxicat search"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_short_help_and_an_example(name: str) -> None:
    command = dict(COMMANDS)[name]
    short = command.get_short_help_str(200)
    assert short and len(short) <= 150, f"{name}: first sentence of the help is missing or too long: {short!r}"
    examples = _examples(command)
    assert examples, f"{name}: the docstring has no 'Example:' block"
    assert all("mxicat" in line or line.startswith("--") for line in examples), examples
    words = name.split(" ")[1:]
    assert any(" ".join(words) in line for line in examples), f"{name}: no example runs {' '.join(words)!r}"


def test_every_option_has_help() -> None:
    missing = [f"{name} {param.opts[0]}" for name, command in COMMANDS for param in command.params
               if isinstance(param, click.Option) and not param.hidden and not param.help]
    assert not missing, f"options without help text: {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_help_shows_every_example_line_verbatim(name: str) -> None:
    args = [*name.split(" ")[1:], "--help"]
    result = CliRunner().invoke(cli, args, prog_name="mxicat", terminal_width=80)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "Usage: " + name in result.output
    shown = [line.strip() for line in result.output.splitlines()]
    for line in _examples(dict(COMMANDS)[name]):
        assert line in shown, f"{name}: example line re-wrapped or lost in --help: {line!r}"


def test_short_help_is_the_whole_first_sentence() -> None:
    result = CliRunner().invoke(cli, ["--help"], prog_name="mxicat", terminal_width=80)
    listing = result.output.partition("Commands:")[2]
    assert "federate" in listing
    assert "..." not in listing  # click's default cuts long first sentences with "..."


def test_reference_page_is_current() -> None:
    page = DOCS / "cli-reference.md"
    assert page.exists(), f"docs/cli-reference.md is missing; generate it with: {REGENERATE}"
    assert page.read_text(encoding="utf-8") == render(), (
        f"docs/cli-reference.md is stale (a command or its help changed); regenerate it with: {REGENERATE}"
    )


def test_reference_page_documents_every_command_with_its_help() -> None:
    text = render()
    for name, _command in COMMANDS:
        assert f"\n## {name}\n" in text, name
        assert command_help(name.split(" ")) in text, name


def test_reference_lists_every_exit_code() -> None:
    import mxicat.errors
    from mxicat.cli import failures

    table = render().partition("\n## Exit codes\n")[2]
    root = mxicat.errors.MxicatError
    for cls in vars(mxicat.errors).values():
        if isinstance(cls, type) and issubclass(cls, root) and cls is not root:
            assert f"| {cls.exit_code} | " in table and f"`{cls.__name__}`" in table, cls
    for code in (0, 2, failures.EX_IOERR, failures.EXIT_BROKEN_PIPE, failures.EXIT_UNEXPECTED):
        assert f"\n| {code} | " in table


def test_reference_help_equals_what_help_prints() -> None:
    result = CliRunner().invoke(cli, ["icat", "import", "--help"], prog_name="mxicat", terminal_width=80)
    assert command_help(["mxicat", "icat", "import"]) == result.output.rstrip()


def test_reference_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    narrow = render()
    monkeypatch.setenv("COLUMNS", "200")
    assert render() == narrow


def test_docs_index_maps_exactly_the_docs_folder() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    missing = sorted(name for name in linked if not (DOCS / name).exists())
    assert not missing, f"docs/index.md links to files that do not exist: {missing}"
    unlisted = sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md" and p.name not in linked)
    assert not unlisted, f"add a line for each of these pages to the table in docs/index.md: {unlisted}"
