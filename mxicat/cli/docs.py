"""The CLI reference page (``docs/cli-reference.md``), rendered from the click command tree.

Each command's section is exactly what ``mxicat ... --help`` prints (usage, help text with its example,
options), at a fixed width so the page does not depend on the terminal. Regenerate after changing a
command::

    python -m mxicat.cli.docs > docs/cli-reference.md

``tests/cli/test_cli_docs.py`` fails when the checked-in page differs from :func:`render`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

#: width of the rendered help (click's default on an 80-column terminal is 78)
WIDTH = 80
REGENERATE = "python -m mxicat.cli.docs > docs/cli-reference.md"


def _anchor(name: str) -> str:
    """The GitHub-style anchor of a ``## name`` heading."""
    return name.lower().replace(" ", "-")


def command_help(path: list[str]) -> str:
    """The ``--help`` text of the command at ``path`` (e.g. ``["mxicat", "icat", "import"]``)."""
    from mxicat.cli import cli

    settings = {**cli.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(cli, info_name=path[0], **settings)
    command: click.Command = cli
    for name in path[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
        ctx = click.Context(command, info_name=name, parent=ctx, terminal_width=WIDTH,
                            max_content_width=WIDTH)
    return command.get_help(ctx).rstrip()


def render() -> str:
    """The whole reference page as Markdown."""
    from mxicat.cli import cli, walk

    commands = [(name, cmd) for name, cmd in walk(cli) if not cmd.hidden]
    lines = [
        "# CLI reference",
        "",
        f"<!-- Generated from the click command tree by `{REGENERATE}`. Do not edit: "
        "tests/cli/test_cli_docs.py fails when this page is stale. -->",
        "",
        "Every `mxicat` command with the text its `--help` prints. Global options (`--catalogue URL`,",
        "`--debug`) go before the command: `mxicat --catalogue sqlite:///mx.db search ...`. On failure a",
        "command prints one line `mxicat: error: ...` on stderr and exits non-zero (`--debug` adds the",
        "traceback); tables are tab-separated lines with full values when stdout is not a terminal.",
        "",
    ]
    for name, cmd in commands:
        depth = name.count(" ")
        lines.append(f"{'  ' * max(depth - 1, 0)}- [`{name}`](#{_anchor(name)}): {cmd.get_short_help_str(200)}")
    lines += ["- [Exit codes](#exit-codes)", ""]
    for name, _cmd in commands:
        lines += [f"## {name}", "", "```text", command_help(name.split(" ")), "```", ""]
    return "\n".join(lines + exit_codes())


def exit_codes() -> list[str]:
    """The exit-code table, from the error classes of :mod:`mxicat.errors` and :mod:`mxicat.cli.failures`."""
    import mxicat.errors
    from mxicat.cli import failures

    meanings: dict[int, list[str]] = {
        0: ["success"],
        failures.EXIT_UNEXPECTED: ["an unexpected error (a bug; `--debug` shows the traceback), or a command's "
                                   "own 'not OK' answer as its help says (e.g. `ontology resolve` of an unknown name)"],
        2: ["a usage error (unknown option, missing argument, bad choice)"],
        failures.EX_IOERR: ["a file could not be read or written (`OSError`)"],
        failures.EXIT_BROKEN_PIPE: ["the reader of stdout went away (`mxicat ... | head`); nothing is printed"],
    }
    root = mxicat.errors.MxicatError
    classes = [c for c in vars(mxicat.errors).values() if isinstance(c, type) and issubclass(c, root) and c is not root]
    for cls in sorted(classes, key=lambda c: (c.exit_code, c.__name__)):
        summary = (cls.__doc__ or "").strip().split("\n")[0].replace("``", "`").rstrip(".")
        meanings.setdefault(cls.exit_code, []).append(f"`{cls.__name__}` ({cls.code}): {summary}")
    lines = ["## Exit codes", "",
             "Every failure prints `mxicat: error: ...` as its last line on stderr (an error class adds its ICAT "
             "code: `mxicat: error: NO_SUCH_OBJECT_FOUND: ...`).", "", "| Exit code | Meaning |", "|---|---|"]
    lines += [f"| {code} | {'; '.join(meanings[code]).replace('|', chr(92) + '|')} |" for code in sorted(meanings)]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    """Print the page, or write it to the path given as the only argument."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
