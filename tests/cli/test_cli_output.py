"""Output rules shared by every command: JSON dates in ICAT's format; one table rule for terminals and pipes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mxicat.cli import output
from mxicat.cli.output import dumps, echo_table, tsv_line

LONG = "MXAutoprocIntegrationScaling_outer_" + "very_long_value_" * 8  # > 80 characters


@click.command()
def table() -> None:
    echo_table(["key", "value", "unit"],
               [["cell", LONG, "[deg]"], ["note", "a\tb\nc\\d", None], ["list", [1, 2], 3.5]],
               title="dataset d1 [rotation]")


def test_piped_table_is_full_tab_separated_lines_and_title_on_stderr() -> None:
    result = CliRunner().invoke(table)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "key\tvalue\tunit",
        f"cell\t{LONG}\t[deg]",
        "note\ta\\tb\\nc\\\\d\t",
        "list\t[1, 2]\t3.5",
    ]
    assert result.stderr == "dataset d1 [rotation]\n"


def test_terminal_table_keeps_brackets_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    result = CliRunner().invoke(table, terminal_width=200)
    assert result.exit_code == 0
    assert "[deg]" in result.stdout and "dataset d1 [rotation]" in result.stdout  # not read as rich markup
    assert "┃ key" in result.stdout


def test_tsv_line_escapes_control_characters() -> None:
    assert tsv_line(["x", None, "1\t2", "l1\r\nl2"]) == "x\t\t1\\t2\tl1\\r\\nl2"


def test_json_dates_in_icat_format() -> None:
    assert dumps({"d": datetime(2024, 5, 1, 10, 0, 0, 123456)}) == '{"d": "2024-05-01T10:00:00.123Z"}'
    assert dumps(datetime(2024, 5, 1, 10, 0, tzinfo=UTC)) == '"2024-05-01T10:00:00.000Z"'


def test_a_real_command_prints_full_width_rows_when_piped(tmp_path: Path) -> None:
    from mxicat.cli import cli

    url = f"sqlite:///{tmp_path / 'mx.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["--catalogue", url, "init"]).exit_code == 0
    result = runner.invoke(cli, ["--catalogue", url, "icat", "search", "SELECT r.what FROM Rule r",
                                 "--format", "table"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header == "value" and len(rows) > 10
    assert max(len(row) for row in rows) > 120  # whole JPQL rules, neither cut nor wrapped
    as_json = runner.invoke(cli, ["--catalogue", url, "icat", "search", "SELECT r.what FROM Rule r"])
    assert rows == [tsv_line([what]) for what in json.loads(as_json.stdout)]


def test_table_dates_as_in_json() -> None:
    when = datetime(2016, 12, 16, 7, 6, 17, 852051, tzinfo=UTC)
    assert tsv_line([when, None]) == "2016-12-16T07:06:17.852Z\t"
