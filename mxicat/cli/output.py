"""Renderers shared by CLI commands: JSON (ICAT date format) and rich tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import click


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


def echo_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    """Print rows as a rich table (plain text when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(soft_wrap=True).print(table)
