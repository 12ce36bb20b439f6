"""``mxicat quickstart``: a working catalogue with a first experiment in it, in one command."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
from platformdirs import user_data_dir

from mxicat.cli.context import CliContext, pass_cli
from mxicat.cli.output import echo_table


@click.command("quickstart")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where the example files are written (default: the mxicat data directory).")
@pass_cli
def quickstart(cli: CliContext, directory: Path | None) -> None:
    """Create the catalogue if needed, load the ontology's ParameterTypes, register the bundled example.

    The catalogue is the configured one (--catalogue, MXICAT_CATALOGUE; by default an embedded SQLite file
    in your data directory, no server needed). The example is generated on the spot: an NXmx master file of
    one rotation sweep and the mmCIF of its processing. It is harvested, registered with provenance and
    grouped, exactly as your own data would be. Running it again changes nothing.

    Example:

        mxicat quickstart
        mxicat --catalogue sqlite:///mx.db quickstart --dir ./example
    """
    from mxicat.catalogue.embedded.store import init_catalogue
    from mxicat.catalogue.open import embedded_path
    from mxicat.mx import open_catalogue
    from mxicat.mx.example import PROPOSAL, load_example, write_example

    settings = cli.settings
    path = embedded_path(settings.catalogue)
    if path is not None and path != ":memory:":
        result = init_catalogue(path, settings=settings)
        click.echo(f"catalogue: {result['path']} ({'created' if result['created'] else 'existing'})")
    else:
        click.echo(f"catalogue: {settings.catalogue}")
    files = write_example(directory or Path(user_data_dir("mxicat")) / "example")
    with open_catalogue(settings.catalogue, settings=settings) as mx:
        sync = mx.sync_parameter_types()
        click.echo(f"ParameterTypes from the ontology: {len(sync.created)} created, "
                   f"{len(sync.unchanged)} already there" + (f", {len(sync.drift)} drifted" if sync.drift else ""))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = load_example(mx, files)
        click.echo(f"example files: {files.directory}")
        rows = [[r["id"], r["name"], "raw", r["status"]] for r in report.raw]
        rows.append([report.processed["id"], report.processed["name"], "processed", report.processed["status"]])
        echo_table(["id", "dataset", "type", "status"], rows, title=f"investigation {PROPOSAL}")
        found = mx.search_datasets("resolution_high < 2 and space_group = \"P 43 21 2\"")
        click.echo(f"group {report.group.get('name')!r}: {report.group.get('size', len(rows))} datasets; "
                   f"search 'resolution_high < 2 and space_group = \"P 43 21 2\"' finds "
                   f"{', '.join(d['name'] for d in found.items) or 'nothing'}")
    catalogue = "" if cli.catalogue_url is None else f"--catalogue {cli.catalogue_url} "
    click.echo("\nNext:")
    for line in (
        f"mxicat {catalogue}search 'wavelength < 1 angstrom' --format json",
        f"mxicat {catalogue}show run_01_xds",
        f"mxicat {catalogue}export-mmcif run_01_xds",
        f"mxicat {catalogue}push /path/to/run_master.h5 --investigation mx1234 --instrument id23eh2",
        f"mxicat {catalogue}serve    # ICAT REST API, MX API and PaNOSC search on http://127.0.0.1:8080",
        f"mxicat {catalogue}ingest   # consume MXCuBE/pyicat-plus messages from a STOMP broker",
    ):
        click.echo(f"  {line}")


COMMANDS: list[click.Command] = [quickstart]
