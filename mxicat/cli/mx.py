"""MX commands: ``push``, ``register-processed``, ``group``, ``search``, ``show``, ``export-mmcif``.

Thin click adapters over :class:`mxicat.mx.MxCatalogue`; the catalogue is ``--catalogue URL`` or
``MXICAT_CATALOGUE`` (credentials from ``MXICAT_USERNAME`` / ``MXICAT_PASSWORD`` / ``MXICAT_PLUGIN``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mxicat.cli.context import CliContext, pass_cli
from mxicat.cli.output import dumps, echo_json, echo_table
from mxicat.errors import BadParameterError
from mxicat.mx import MxCatalogue, open_catalogue

F = TypeVar("F", bound=Callable[..., Any])


def _open(cli: CliContext, *, create: bool = False) -> MxCatalogue:
    """The configured catalogue; only ``push`` may create a missing embedded file (a mistyped path given to
    ``search`` must be an error, not an empty new catalogue answering "nothing found")."""
    settings = cli.settings
    return open_catalogue(settings.catalogue, settings=settings, create=create)


def _ref(text: str) -> int | str:
    return int(text) if text.strip().isdecimal() else text


def _format_option(default: str = "table") -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(["json", "table"]), default=default,
                        show_default=True, help="Output format.")


@click.command("push")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--investigation", "-i", required=True, metavar="ID",
              help="Investigation id, name (proposal, e.g. mx2532), name/visitId or visit (mx2532-1).")
@click.option("--instrument", "--beamline", "-b", "beamline", required=True, metavar="BL",
              help="Beamline (instrument) name, e.g. id23eh2.")
@click.option("--sample", "-s", metavar="NAME", help="Sample name (default: from the file).")
@click.option("--technique", metavar="NAME", help="Technique (default: SSX for serial data, else MX).")
@_format_option()
@pass_cli
def push(cli: CliContext, paths: tuple[str, ...], investigation: str, beamline: str,
         sample: str | None, technique: str | None, fmt: str) -> None:
    """Harvest NXmx files (or directories of them) and register one raw dataset per sweep.

    On the embedded catalogue a missing investigation is created (with a warning); on a remote ICAT it
    is an error unless you may create investigations.

    Example:

        mxicat push /data/mx2532/run1_master.h5 --investigation mx2532 --instrument id23eh2
    """
    from rich.console import Console
    from rich.progress import Progress

    from mxicat.cli.harvest import discover

    files = discover(paths)
    if not files:
        raise BadParameterError(f"no NXmx files found in {', '.join(paths)}")
    results: list[dict[str, Any]] = []
    with _open(cli, create=True) as cat:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            cat.ensure_investigation(investigation, beamline=beamline)
        for warning in caught:
            if "did not exist" in str(warning.message):
                click.echo(f"mxicat: warning: {warning.message}", err=True)
        progress_console = Console(stderr=True)  # stdout carries only the result
        with Progress(console=progress_console, transient=True,
                      disable=len(files) < 2 or not progress_console.is_terminal) as progress:
            task = progress.add_task("registering", total=len(files))
            for path in files:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    registrations = cat.register_nexus(path, investigation, beamline=beamline,
                                                       sample=sample, technique=technique)
                for reg in registrations:
                    results.append({"file": path, **reg.to_json()})
                progress.advance(task)
    if fmt == "json":
        echo_json(results)
        return
    echo_table(["file", "dataset", "id", "status", "unverified", "changes"],
               [[r["file"], r["name"], r["id"], r["status"], ", ".join(r["unverified"]),
                 ", ".join(r["changes"])] for r in results])


def _load_mapping(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ValueError as err:
        raise BadParameterError(f"{path}: not valid JSON/YAML: {err}") from err
    if not isinstance(data, dict):
        raise BadParameterError(f"{path}: expected a mapping of metadata keys to values")
    return data


def _is_ispyb(data: dict[str, Any]) -> bool:
    return any(str(k).startswith("AutoProc") for k in data)


@click.command("register-processed")
@click.argument("name")
@click.option("--input", "inputs", multiple=True, metavar="DATASET",
              help="Input dataset: id, name or raw directory path (repeat for several).")
@click.option("--mmcif", type=click.Path(exists=True, dir_okay=False), help="PDBx/mmCIF file of results.")
@click.option("--metadata", "metadata_file", type=click.Path(exists=True, dir_okay=False),
              help="JSON/YAML file: metadata values, or an ISPyB integration/scaling dict.")
@click.option("--program", help="Producing program (default: from the mmCIF _software rows).")
@click.option("--version", "program_version", help="Program version.")
@click.option("--investigation", "-i", metavar="ID", help="Investigation (default: the first input's).")
@click.option("--location", metavar="PATH", help="Directory of the processed results.")
@_format_option("json")
@pass_cli
def register_processed(cli: CliContext, name: str, inputs: tuple[str, ...], mmcif: str | None,
                       metadata_file: str | None, program: str | None, program_version: str | None,
                       investigation: str | None, location: str | None, fmt: str) -> None:
    """Register a processed dataset with its statistics and its provenance (inputs → program → result).

    Example:

        mxicat register-processed xia2_run1 --input run1 --mmcif xia2.mmcif --program xia2 --version 3.8
    """
    if not mmcif and not metadata_file:
        raise BadParameterError("give --mmcif FILE or --metadata FILE")
    kwargs: dict[str, Any] = {}
    if metadata_file:
        data = _load_mapping(metadata_file)
        kwargs["ispyb" if _is_ispyb(data) else "values"] = data
    with _open(cli) as cat:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg = cat.register_processed(
                name, inputs=[_ref(i) for i in inputs], investigation=investigation, mmcif=mmcif,
                program=program, version=program_version, location=location, **kwargs)
    if fmt == "json":
        echo_json(reg.to_json())
    else:
        echo_table(["dataset", "id", "status", "unverified"],
                   [[reg.name, reg.id, reg.status, ", ".join(reg.unverified)]])


@click.command("group")
@click.argument("name")
@click.argument("datasets", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(["merge", "multi_sweep", "multi_crystal", "ssx_chunks"]),
              default="merge", show_default=True, help="What the group is.")
@click.option("--parameter", "-p", "parameters", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the group (repeat).")
@_format_option("json")
@pass_cli
def group(cli: CliContext, name: str, datasets: tuple[str, ...], kind: str,
          parameters: tuple[str, ...], fmt: str) -> None:
    """Group datasets (ids or names) under a name; grouping again adds the missing members.

    Example:

        mxicat group lyso-merge --kind multi_crystal 12 13 14
    """
    values: dict[str, str] = {}
    for item in parameters:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadParameterError(f"--parameter must be KEY=VALUE, got {item!r}")
        values[key.strip()] = value.strip()
    with _open(cli) as cat:
        result = cat.group(name, [_ref(d) for d in datasets], kind=kind, parameters=values or None)
    if fmt == "json":
        echo_json(result)
    else:
        echo_table(["group", "id", "kind", "size"], [[result["name"], result["id"], result["kind"],
                                                      result["size"]]])


@click.command("search")
@click.argument("filter_text", metavar="FILTER", required=False)
@click.option("--limit", "-n", type=click.IntRange(min=1), default=100, show_default=True,
              help="Datasets per page (the next page: --cursor).")
@click.option("--order", default="id", show_default=True,
              help="id, name, start_time or end_time; prefix - for descending.")
@click.option("--cursor", help="Continue after the page that printed this cursor.")
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matching datasets.")
@_format_option()
@pass_cli
def search(cli: CliContext, filter_text: str | None, limit: int, order: str, cursor: str | None,
           count_only: bool, fmt: str) -> None:
    """Find datasets with a filter over ontology names and units.

    Example:

        mxicat search 'resolution_high < 2.0 and beamline = id23eh2' --format json
        mxicat search 'wavelength < 1 angstrom and start_time >= 2024-01-01' --count
    """
    with _open(cli) as cat:
        if count_only:
            click.echo(str(cat.count_datasets(filter_text)))
            return
        page = cat.search_datasets(filter_text, order=order, limit=limit, cursor=cursor)
    if fmt == "json":
        echo_json(page.items)
    else:
        echo_table(["id", "name", "investigation", "type", "sample", "start_time"],
                   [[d["id"], d["name"], d["investigation"], d["type"], d["sample"], d["start_time"]]
                    for d in page.items])
    if page.cursor:
        click.echo(f"next cursor: {page.cursor}", err=True)


@click.command("show")
@click.argument("dataset")
@_format_option()
@pass_cli
def show(cli: CliContext, dataset: str, fmt: str) -> None:
    """Everything about one dataset (id or name): metadata, provenance, groups, unverified keys.

    Example:

        mxicat show Therm_6_2 --format json
    """
    with _open(cli) as cat:
        detail = cat.dataset(_ref(dataset))
    if fmt == "json":
        echo_json(detail)
        return
    title = f"{detail['name']} (id {detail['id']}, {detail['type']}, {detail['investigation']})"
    rows = [[k, dumps(v) if isinstance(v, list | dict) else v, detail["units"].get(k, "")]
            for k, v in detail["metadata"].items()]
    rows += [[f"{k} (unverified)", v, ""] for k, v in detail["unverified"].items()]
    prov = detail["provenance"]
    rows += [["input", f"{d['name']} (id {d['id']})", ""] for d in prov["inputs"]]
    rows += [["output", f"{d['name']} (id {d['id']})", ""] for d in prov["outputs"]]
    rows += [["group", f"{g['name']} ({g['kind']}, {g['size']} datasets)", ""] for g in detail["groups"]]
    echo_table(["key", "value", "unit"], rows, title=title)


@click.command("export-mmcif")
@click.argument("dataset")
@click.option("--group", "is_group", is_flag=True, help="DATASET names a group: one block per result.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
@pass_cli
def export_mmcif(cli: CliContext, dataset: str, is_group: bool, output: str | None) -> None:
    """PDB-deposition mmCIF (data collection and processing) of a dataset or group.

    Example:

        mxicat export-mmcif xia2_run1 -o deposition.cif
    """
    with _open(cli) as cat:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = cat.export_mmcif(_ref(dataset), group=is_group)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


COMMANDS: list[click.Command] = [push, register_processed, group, search, show, export_mmcif]
