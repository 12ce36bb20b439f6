"""The ``mxicat`` command: a thin click layer over the library.

Each command group lives in its own module and is registered explicitly in :data:`COMMAND_MODULES`.
Every failure is printed as one line (``mxicat: error: ...``) with an exit code that says what failed
(:mod:`mxicat.cli.failures`); ``--debug`` adds the traceback. The help rules (verbatim ``Example:`` blocks,
whole first sentences in command lists) are applied to every registered command by :func:`_finish_help`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import click

from mxicat import __version__
from mxicat.cli.context import CliContext
from mxicat.cli.failures import fail, is_passthrough, show_warning

#: modules under ``mxicat.cli`` whose ``COMMANDS`` list is added to the group, in this order
COMMAND_MODULES: list[str] = [
    "quickstart",
    "ingest",
    "harvest",
    "rules",
    "serve",
    "ontology",
    "icat",
    "mx",
    "federate",
]


class MxicatGroup(click.Group):
    """Click group that reports every failure as one readable line (see :mod:`mxicat.cli.failures`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        debug = "--debug" in args
        try:
            return super().parse_args(ctx, args)
        except Exception as err:
            if is_passthrough(err):
                raise
            fail(err, debug=debug)

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        with warnings.catch_warnings():
            if not debug:  # one line per warning; --debug keeps Python's format (file, line, category)
                warnings.showwarning = show_warning
            try:
                result = super().invoke(ctx)
                sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's final flush
                return result
            except Exception as err:
                if is_passthrough(err):
                    raise
                fail(err, debug=debug)


@click.group(cls=MxicatGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--catalogue",
    "catalogue_url",
    metavar="URL",
    envvar=None,
    help="Catalogue to use: sqlite:///path (embedded) or icat+https://host[:port]. "
    "Overrides MXICAT_CATALOGUE.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(__version__, prog_name="mxicat")
@click.pass_context
def cli(ctx: click.Context, catalogue_url: str | None, debug: bool) -> None:
    """mxicat: ICAT-compatible metadata catalogue for MX and SSX.

    The catalogue is --catalogue URL, else MXICAT_CATALOGUE, else an embedded file in the user's data
    directory. Every command has --help with an example.

    Example:

        mxicat quickstart
        mxicat --catalogue sqlite:///mx.db push /data/mx2532/ --investigation mx2532 --instrument id23eh2
        mxicat --catalogue sqlite:///mx.db search 'resolution_high < 2.0' --format json
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = CliContext(catalogue_url=catalogue_url, debug=debug)


def walk(command: click.Command, path: tuple[str, ...] = ("mxicat",)) -> Iterator[tuple[str, click.Command]]:
    """Every command under ``command`` (itself first) with its full name, subcommands sorted by name."""
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from walk(command.commands[name], (*path, name))


def _finish_help(command: click.Command) -> None:
    """Apply the house help rules to a command's docstring, the same for every command module.

    * The paragraphs after ``Example:`` are shown verbatim (click's ``\\b`` marker), so several example
      lines, ``\\`` continuations and long command lines are not re-wrapped into one paragraph.
    * Command lists show the whole first sentence (wrapped) instead of cutting it at about 45 columns.
    """
    if not command.help:
        return
    text = inspect.cleandoc(command.help)
    head, marker, examples = text.partition("Example:")
    if marker:
        blocks = [b for b in examples.strip("\n").split("\n\n") if b.strip()]
        verbatim = ["\b\n" + b if not b.startswith("\b") else b for b in blocks]
        text = head + marker + "\n\n" + "\n\n".join(verbatim)
        command.help = text
    if command.short_help is None:
        first = head.strip().split("\n\n", 1)[0]
        end = first.find(". ")
        command.short_help = " ".join((first if end < 0 else first[: end + 1]).split())


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"mxicat.cli.{name}")
        for command in module.COMMANDS:
            cli.add_command(command)
    for _path, command in walk(cli):
        _finish_help(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mxicat")
