"""How the ``mxicat`` command reports failures: one line on stderr and an exit code.

Every failure is one line ``mxicat: error: ...`` (usage errors print the usage and the help hint above it,
as argparse does); ``--debug`` prints the traceback before that line and keeps the exit code:

=============================  =========================================================================
failure                        line and exit code
=============================  =========================================================================
:class:`MxicatError`           ``mxicat: error: CODE: message``, the class's ``exit_code`` (2 .. 78)
click usage error              ``mxicat: error: message``, 2 (as ``BAD_PARAMETER``)
other click error              ``mxicat: error: message``, its ``exit_code`` (1)
``OSError``                    ``mxicat: error: file: reason``, 74 (``EX_IOERR``)
stdout closed by the reader    nothing, 141 (128 + SIGPIPE, what a shell reports for ``yes | head``)
anything else (a bug)          ``mxicat: error: unexpected Type: message (run with --debug ...)``, 1
=============================  =========================================================================

Warnings (``warnings.warn`` in the library) are one line ``mxicat: warning: message`` each; with ``--debug``
Python's own format (file, line, category) is kept.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from typing import NoReturn, TextIO

import click

from mxicat.errors import MxicatError

#: exit code of a failed read or write of a file (sysexits.h EX_IOERR)
EX_IOERR = 74
#: exit code when the reader of stdout went away (128 + SIGPIPE)
EXIT_BROKEN_PIPE = 141
#: exit code of an unexpected exception (a bug)
EXIT_UNEXPECTED = 1
DEBUG_HINT = "run with --debug for the traceback"


def is_passthrough(err: BaseException) -> bool:
    """Exceptions click itself must handle: exits, aborts and 'no arguments, show the help'."""
    return isinstance(err, click.exceptions.Exit | click.Abort | click.exceptions.NoArgsIsHelpError)


def stdout_closed() -> bool:
    """True when stdout is a pipe whose reader has gone (so an EPIPE came from stdout, not a socket).

    Streams without a file descriptor (click's CliRunner) cannot be asked and count as closed.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return True
    import select

    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & select.POLLERR for _, event in poller.poll(0))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _os_message(err: OSError) -> str:
    if err.strerror and err.filename is not None:
        target = f"{err.filename} -> {err.filename2}" if err.filename2 is not None else f"{err.filename}"
        return f"{target}: {err.strerror}"
    return err.strerror or str(err) or type(err).__name__


def describe(err: BaseException, *, debug: bool = False) -> tuple[str, int]:
    """The error line (without the ``mxicat: error:`` prefix) and the exit code for ``err``."""
    if isinstance(err, MxicatError):
        return f"{err.code}: {err}", err.exit_code
    if isinstance(err, click.ClickException):
        return err.format_message(), err.exit_code
    if isinstance(err, OSError):
        return _os_message(err), EX_IOERR
    text = f"unexpected {type(err).__name__}: {err}".rstrip(": ")
    return (text if debug else f"{text} ({DEBUG_HINT})"), EXIT_UNEXPECTED


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    """``warnings.showwarning`` for the CLI: one ``mxicat: warning:`` line on stderr."""
    try:
        click.echo(f"mxicat: warning: {message}", err=True)
    except OSError:
        pass


def fail(err: Exception, *, debug: bool) -> NoReturn:
    """Report ``err`` as described in the module docstring and exit (raises ``click.exceptions.Exit``)."""
    if isinstance(err, OSError) and err.errno == errno.EPIPE and stdout_closed():
        _silence_stdout()
        raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None
    if debug:
        traceback.print_exception(err, file=sys.stderr)
    message, code = describe(err, debug=debug)
    if isinstance(err, click.UsageError) and err.ctx is not None:
        usage_ctx = err.ctx
        click.echo(usage_ctx.get_usage(), err=True)
        click.echo(f"Try '{usage_ctx.command_path} --help' for help.", err=True)
    try:
        click.echo(f"mxicat: error: {message}", err=True)
    except OSError:  # stderr gone as well: the exit code is all that is left
        pass
    raise click.exceptions.Exit(code) from None
