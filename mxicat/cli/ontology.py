"""``mxicat ontology ...``: inspect the MX/SSX ontology, resolve producer names, validate metadata files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from mxicat.cli.output import dumps, echo_json, echo_table
from mxicat.errors import BadParameterError
from mxicat.ontology import Ontology, load_ontology, validate
from mxicat.ontology.export import FORMATS, export, term_record


@click.group("ontology")
@click.option("--ontology", "ontology_path", type=click.Path(exists=True, path_type=Path),
              metavar="PATH", help="Use the ontology YAML at PATH (folder or file) instead of the "
              "packaged one, e.g. to check an edited copy.")
@click.pass_context
def ontology_group(ctx: click.Context, ontology_path: Path | None) -> None:
    """The MX/SSX ontology: terms, units, PDBx items, NXmx paths and ICAT names.

    Example:

        mxicat ontology list --technique SSX

        mxicat ontology resolve MX_oscillationStart MXAutoprocIntegrationScaling_outer_cc_half
    """
    ctx.meta["mxicat.ontology_path"] = ontology_path


def _ontology(ctx: click.Context) -> Ontology:
    return load_ontology(ctx.meta.get("mxicat.ontology_path"))


@ontology_group.command("list")
@click.option("--technique", metavar="TECHNIQUE", help="Only terms used by TECHNIQUE (MX, SSX, MAD).")
@click.option("--record", type=click.Choice(["raw", "processed"]),
              help="Only terms of raw or of processed datasets ('both' terms are in each).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for reading, json (same records as export) for scripts.")
@click.pass_context
def list_cmd(ctx: click.Context, technique: str | None, record: str | None, fmt: str) -> None:
    """List the ontology terms.

    Example:

        mxicat ontology list --technique SSX --format json
    """
    ont = _ontology(ctx)
    terms = [t for t in ont.for_technique(technique) if not record or t.in_record(record)]
    if fmt == "json":
        echo_json([term_record(t) for t in terms], indent=2)
        return
    rows = [[t.name, t.type, t.unit, t.icat_label, t.record, ",".join(t.techniques)] for t in terms]
    columns = ["name", "type", "unit", "ICAT name", "record", "techniques"]
    if sys.stdout.isatty():
        echo_table(columns, rows, title=f"{len(terms)} terms")
    else:  # piped: full names, one tab-separated line per term (rich would truncate to 80 columns)
        for row in [columns, *rows]:
            click.echo("\t".join(row))


@ontology_group.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for reading, json (the export record plus details) for scripts.")
@click.pass_context
def show_cmd(ctx: click.Context, name: str, fmt: str) -> None:
    """Show one term; NAME may be the canonical name, an ICAT name or an alias.

    Example:

        mxicat ontology show MX_oscillationStart
    """
    ont = _ontology(ctx)
    resolved = ont.resolve(name)
    if resolved is None:
        raise BadParameterError(f"unknown ontology term {name!r}")
    term = resolved.term
    details: dict[str, Any] = {
        **term_record(term),
        "minimum": term.minimum, "maximum": term.maximum, "allowed": list(term.allowed),
        "shells": list(term.shells), "fraction": term.fraction, "iri": term.iri, "theme": term.theme,
        "icat_names": [term.icat_name_for(s) for s in term.shells] if term.shells else [term.icat_name],
    }
    if fmt == "json":
        echo_json(details, indent=2)
        return
    if resolved.key != term.name or name != term.name:
        shell = f", shell {resolved.shell}" if resolved.shell else ""
        click.echo(f"{name} -> {term.name} (key {resolved.key}{shell})")
    for key, value in details.items():
        if value in (None, "", [], False) and key not in ("unit",):
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        click.echo(f"{key:12} {text}")


@ontology_group.command("resolve")
@click.argument("names", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one tab-separated line per NAME; json: one array.")
@click.pass_context
def resolve_cmd(ctx: click.Context, names: tuple[str, ...], fmt: str) -> None:
    """Say which term (and shell) each NAME means; exit 1 if any is unknown.

    NAME may be a canonical key (r_merge_outer), an ICAT name
    (MXAutoprocIntegrationScaling_outer_cc_half) or an alias (MX_oscillationStart, scanType).

    Example:

        mxicat ontology resolve MX_oscillationStart scanType MXAutoprocIntegrationScaling_outer_cc_ano
    """
    ont = _ontology(ctx)
    rows: list[dict[str, Any]] = []
    for name in names:
        found = ont.resolve(name)
        if found is None:
            rows.append({"name": name, "term": None, "shell": None, "key": None, "icat_name": None,
                         "unit": None})
        else:
            rows.append({"name": name, "term": found.term.name, "shell": found.shell, "key": found.key,
                         "icat_name": found.icat_name, "unit": found.term.unit})
    if fmt == "json":
        echo_json(rows, indent=2)
    else:
        for row in rows:
            if row["term"] is None:
                click.echo(f"{row['name']}\tunknown")
            else:
                shell = f"\tshell={row['shell']}" if row["shell"] else ""
                click.echo(f"{row['name']}\t{row['term']}{shell}\tkey={row['key']}\t"
                           f"icat={row['icat_name']}")
    if any(row["term"] is None for row in rows):
        ctx.exit(1)


@ontology_group.command("export")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="json", show_default=True,
              help="json: one array of terms; icat: ICAT ParameterType definitions; markdown: "
              "the reference page (docs/ontology.md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the ontology as JSON, ICAT ParameterTypes or Markdown.

    Example:

        mxicat ontology export --format markdown > docs/ontology.md
    """
    text = export(_ontology(ctx), fmt) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@ontology_group.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--record", type=click.Choice(["raw", "processed"]), help="Refuse terms of the other record.")
@click.option("--technique", metavar="TECHNIQUE", help="Refuse terms not used by TECHNIQUE.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: problems, unmapped keys, then a summary line; json: one object.")
@click.pass_context
def validate_cmd(ctx: click.Context, file: Path, record: str | None, technique: str | None,
                 fmt: str) -> None:
    """Validate a flat metadata file (JSON or YAML mapping); exit 1 if any field is bad.

    Keys may be canonical names, ICAT names or aliases; unknown keys are listed as unmapped.

    Example:

        mxicat ontology validate dataset-metadata.json --record raw
    """
    metadata = _read_metadata(file)
    result = validate(metadata, record=record, technique=technique, ontology=_ontology(ctx), warn=False)
    if fmt == "json":
        click.echo(dumps({
            "ok": result.ok,
            "values": result.values,
            "problems": [{"key": p.key, "value": p.value, "reason": p.reason} for p in result.problems],
            "unmapped": result.unmapped,
            "notes": result.notes,
        }, indent=2))
    else:
        for problem in result.problems:
            click.echo(f"problem: {problem}")
        for key in result.unmapped:
            click.echo(f"unmapped: {key} (not an ontology term)")
        for note in result.notes:
            click.echo(f"warning: {note}")
        click.echo(f"{file}: {len(result.values)} value(s) valid, {len(result.problems)} problem(s), "
                   f"{len(result.unmapped)} unmapped")
    if not result.ok:
        ctx.exit(1)


def _read_metadata(file: Path) -> dict[str, Any]:
    """A flat mapping from a JSON or YAML file.

    Raises:
        BadParameterError: unreadable, not JSON/YAML, or not a mapping.
    """
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise BadParameterError(f"{file}: not valid {file.suffix.lstrip('.') or 'YAML'}: {err}") from err
    if not isinstance(data, dict):
        raise BadParameterError(f"{file}: expected a mapping of metadata names to values")
    return {str(k): v for k, v in data.items()}


COMMANDS: list[click.Command] = [ontology_group]
