"""``mxicat harvest``: NXmx master files → canonical metadata, one JSON object per file or a table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from mxicat.cli.output import dumps, echo_table
from mxicat.harvest import HarvestError, harvest, units
from mxicat.harvest.harvester import is_master

#: show a progress bar from this many files on
PROGRESS_FROM = 4
#: file names taken when walking a directory; ``*.h5`` files only when they are masters
ALWAYS_PATTERNS = ("*.nxs", "*master.h5")

Outcome = tuple[str, dict[str, Any] | None, str | None]


def discover(paths: tuple[str, ...]) -> list[str]:
    """Files named on the command line, plus NXmx masters found by walking the directories among them."""
    found: list[str] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            found.append(given)
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                candidate = Path(root, name)
                if any(candidate.match(p) for p in ALWAYS_PATTERNS):
                    found.append(str(candidate))
                elif name.endswith(".h5") and is_master(candidate):
                    found.append(str(candidate))
    return found


def harvest_one(path: str) -> Outcome:
    """(path, JSON object, None) or (path, None, error line); never raises for a bad file."""
    try:
        return path, harvest(path).to_json(), None
    except HarvestError as err:
        return path, None, f"{err.code}: {err}"
    except Exception as err:  # noqa: BLE001 - one broken file must not stop the others
        return path, None, f"INTERNAL: {path}: {type(err).__name__}: {err}"


def _outcomes(files: list[str], jobs: int) -> Iterator[Outcome]:
    if jobs <= 1 or len(files) <= 1:
        yield from map(harvest_one, files)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(harvest_one, files, chunksize=max(1, len(files) // (4 * jobs)))


def _echo_tables(result: dict[str, Any]) -> None:
    """One table per sweep: term, value, canonical unit, HDF5 source path; then its warnings."""
    for index, sweep in enumerate(result["sweeps"]):
        title = f"{result['file']} [{sweep['scan_type']}, {result['layout']}]"
        if len(result["sweeps"]) > 1:
            title += f" sweep {index + 1}/{len(result['sweeps'])}"
        rows = [[term, value, units.canonical_unit(term), sweep["sources"].get(term)]
                for term, value in sweep["metadata"].items()]
        rows += [["datafile", d["path"], d["kind"], "present" if d["exists"] else "MISSING"]
                 for d in sweep["datafiles"]]
        rows += [["warning", w, "", ""] for w in result["warnings"] + sweep["warnings"]]
        echo_table(["term", "value", "unit", "source"], rows, title=title)


@click.command("harvest")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True,
              help="json: one JSON object per file per line; table: one term/value/unit/source table per sweep.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Harvest in this many parallel processes.")
def harvest_command(paths: tuple[str, ...], fmt: str, jobs: int) -> None:
    """Harvest metadata from NeXus/HDF5 (NXmx) master files (and DIALS .expt files named explicitly).

    Directories are walked for *.nxs, *master.h5 and other *.h5 files that are NXmx masters (data files
    are skipped). A file that cannot be harvested gives one error line on stderr; the others are still
    harvested and the exit status is non-zero at the end.

    Example:

        mxicat harvest /data/visit/ --format table --jobs 2
    """
    files = discover(paths)
    failures = 0
    results: list[dict[str, Any]] = []

    def handle(outcome: Outcome) -> None:
        nonlocal failures
        _path, result, error = outcome
        if error is not None:
            failures += 1
            click.echo(f"mxicat: error: {error}", err=True)
        elif fmt == "json":
            click.echo(dumps(result))
        else:
            results.append(result)  # type: ignore[arg-type]

    if len(files) >= PROGRESS_FROM:
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True)
        with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("harvesting", total=len(files))
            for outcome in _outcomes(files, jobs):
                handle(outcome)
                progress.advance(task)
    else:
        for outcome in _outcomes(files, jobs):
            handle(outcome)
    for result in results:
        _echo_tables(result)
    if failures:
        raise click.exceptions.Exit(HarvestError.exit_code)


COMMANDS: list[click.Command] = [harvest_command]
