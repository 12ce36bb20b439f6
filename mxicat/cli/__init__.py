"""The ``mxicat`` command: a thin click layer over the library.

Each command group lives in its own module and is registered explicitly in :data:`COMMAND_MODULES`.
Errors derived from :class:`~mxicat.errors.MxicatError` are printed as one line (``mxicat: error: ...``)
and exit with the error's ``exit_code``; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from mxicat import __version__
from mxicat.cli.context import CliContext
from mxicat.errors import MxicatError

#: modules under ``mxicat.cli`` whose ``COMMANDS`` list is added to the group, in this order
COMMAND_MODULES: list[str] = [
    "harvest",
    "rules",
    "serve",
    "ontology",
    "icat",
    "mx",
    "federate",
]


class MxicatGroup(click.Group):
    """Click group that turns mxicat errors into one readable line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MxicatError as err:
            debug = bool(ctx.obj and ctx.obj.debug) or "--debug" in sys.argv
            if debug:
                raise
            click.echo(f"mxicat: error: {err.code}: {err}", err=True)
            ctx.exit(err.exit_code)
        except OSError as err:
            debug = bool(ctx.obj and ctx.obj.debug) or "--debug" in sys.argv
            if debug:
                raise
            click.echo(f"mxicat: error: {err}", err=True)
            ctx.exit(74)


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

    Example:

        mxicat quickstart
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = CliContext(catalogue_url=catalogue_url, debug=debug)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"mxicat.cli.{name}")
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mxicat")
