"""Renderers shared by CLI commands: JSON (ICAT date format) and tables.

One rule for every table: on a terminal a rich table (wrapped to the window, for reading); when stdout is
not a terminal (a pipe or a file) tab-separated lines with the full values (a header line, then one line
per row; tab, newline, carriage return and backslash escaped as ``\\t`` ``\\n`` ``\\r`` ``\\\\``), and the
title, if any, on stderr so stdout stays data.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import click

#: how each control character is written in a tab-separated cell
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def json_default(value: Any) -> Any:
    """JSON encoding of values ICAT returns: dates in ICAT's REST format."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        text = value.isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any, *, indent: int | None = None) -> str:
    """JSON text of ``data`` with mxicat's encoding rules."""
    return json.dumps(data, default=json_default, indent=indent, ensure_ascii=False)


def echo_json(data: Any, *, indent: int | None = None) -> None:
    """Print ``data`` as JSON on stdout."""
    click.echo(dumps(data, indent=indent))


def stdout_is_terminal() -> bool:
    """True when stdout is an interactive terminal (False for pipes, files and CliRunner)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def cell_text(value: Any) -> str:
    """Text of one table cell: empty for None, dates as in JSON (ICAT format), JSON for lists and mappings."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return str(json_default(value))
    if isinstance(value, list | dict | tuple):
        return dumps(value)
    return str(value)


def tsv_line(values: Iterable[Any]) -> str:
    """One tab-separated line; control characters inside values are escaped so a row stays one line."""
    return "\t".join(cell_text(v).translate(_TSV_ESCAPES) for v in values)


def echo_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    """Print rows as a table: rich on a terminal, full-width tab-separated lines otherwise (see module)."""
    if not stdout_is_terminal():
        if title:
            click.echo(title, err=True)
        click.echo(tsv_line(columns))
        for row in rows:
            click.echo(tsv_line(row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text objects, not str: values such as "[deg]" must not be read as rich markup
    table = Table(title=Text(title) if title else None)
    for column in columns:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*(Text(cell_text(v)) for v in row))
    Console(soft_wrap=True).print(table)
