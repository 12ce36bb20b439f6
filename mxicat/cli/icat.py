"""``mxicat init`` and ``mxicat icat ...``: create the embedded catalogue, dumps, searches, summaries.

Thin layer over :mod:`mxicat.catalogue.embedded` (store, dumps) and the Catalogue protocol (search,
summary work on a real ICAT too, through :func:`mxicat.catalogue.open.open_catalogue`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from mxicat.cli.context import CliContext, pass_cli
from mxicat.errors import BadParameterError, ConfigurationError


def _embedded_path(cli: CliContext) -> str | None:
    """The catalogue file of the configured URL, or None for a remote ICAT."""
    from mxicat.catalogue.open import embedded_path, is_remote_url

    url = cli.settings.catalogue
    if is_remote_url(url):
        return None
    path = embedded_path(url)
    if path is None:
        raise ConfigurationError("an in-memory catalogue does not persist; give a file (sqlite:///path)")
    return path


@contextmanager
def _open(cli: CliContext, as_user: str | None) -> Iterator[Any]:
    """The configured catalogue: an embedded file as its owner (or ``--as`` user), else a real ICAT."""
    path = _embedded_path(cli)
    if path is None:
        if as_user:
            raise BadParameterError("--as works only on an embedded catalogue (its owner may impersonate)")
        from mxicat.catalogue.open import open_catalogue

        with open_catalogue(cli.settings.catalogue, settings=cli.settings) as cat:
            yield cat
        return
    from mxicat.catalogue.embedded.store import open_embedded

    with open_embedded(path, settings=cli.settings, user=as_user) as cat:
        yield cat


@click.command("init")
@click.option("--bare", is_flag=True, help="Only the ICAT schema: no rules, groupings or other content "
              "(what importing an ICAT dump expects).")
@pass_cli
def init_cmd(cli: CliContext, bare: bool) -> None:
    """Create (or upgrade) the embedded catalogue file.

    Example:

        mxicat --catalogue sqlite:///mx.db init --bare
    """
    from mxicat.catalogue.embedded.store import init_catalogue

    path = _embedded_path(cli)
    if path is None:
        raise BadParameterError("mxicat init creates an embedded catalogue; the configured one is a remote ICAT")
    result = init_catalogue(path, settings=cli.settings, bare=bare)
    what = "created" if result["created"] else "opened"
    click.echo(f"{what} {result['path']}" + (f"; migrations: {', '.join(result['migrations'])}"
                                            if result["migrations"] else "; schema up to date"))
    for name, seeded in result["seeded"].items():
        click.echo(f"seeded {name.rsplit(':', 1)[-1]}: {seeded}")


@click.group("icat")
def icat_group() -> None:
    """ICAT-level access: dumps, searches, per-user summaries.

    Example:

        mxicat --catalogue sqlite:///mx.db icat summary
    """


@icat_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["yaml", "xml"]), help="default: from the file suffix")
@click.option("--duplicate", type=click.Choice(["THROW", "IGNORE", "CHECK", "OVERWRITE"], case_sensitive=False),
              default="THROW", show_default=True, help="Objects whose key exists already (as icatingest).")
@pass_cli
def import_cmd(cli: CliContext, file: Path, fmt: str | None, duplicate: str) -> None:
    """Load a python-icat dump file (YAML or XML, ICAT 4.4-6.2) in one transaction.

    A catalogue file that does not exist yet is created bare. FILE "-" reads standard input. ICAT 7.0 sample
    content (InvestigationSample, Sample and SampleType keyed by pid) does not fit the embedded ICAT 6.2 schema:
    it is refused with one error naming the object and the dump's version, and nothing is imported.

    Example:

        mxicat --catalogue sqlite:///mx.db icat import icatdump-5.0.yaml
    """
    from mxicat.catalogue.embedded.dump import dump_format, load_file
    from mxicat.catalogue.embedded.store import EmbeddedStore

    path = _embedded_path(cli)
    if path is None:
        raise BadParameterError("mxicat icat import loads into an embedded catalogue (use icatingest for ICAT)")
    store = EmbeddedStore.from_settings(cli.settings, path, create=not Path(path).exists())
    try:
        if str(file) == "-":
            fmt = dump_format("-", fmt)
            with click.open_file("-", "rb" if fmt == "xml" else "r") as fh:
                counts = load_file(store, fh, fmt=fmt, duplicate=duplicate)
        else:
            counts = load_file(store, file, fmt=fmt, duplicate=duplicate)
    finally:
        store.close()
    click.echo(f"imported {sum(counts.values())} objects of {len(counts)} entity types from {file}", err=True)


@icat_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["yaml", "xml"]), help="default: from the file suffix")
@pass_cli
def export_cmd(cli: CliContext, file: Path, fmt: str | None) -> None:
    """Write the whole catalogue as a python-icat dump file (readable by icatingest); "-" is standard output.

    Example:

        mxicat --catalogue sqlite:///mx.db icat export backup.yaml
    """
    from mxicat.catalogue.embedded.dump import dump_format, save_file
    from mxicat.catalogue.embedded.store import EmbeddedStore

    path = _embedded_path(cli)
    if path is None:
        raise BadParameterError("mxicat icat export reads an embedded catalogue (use icatdump for ICAT)")
    store = EmbeddedStore.from_settings(cli.settings, path)
    service = f"sqlite:///{Path(path).resolve()}"
    try:
        if str(file) == "-":
            fmt = dump_format("-", fmt)
            with click.open_file("-", "wb" if fmt == "xml" else "w") as out:
                save_file(store, out, fmt=fmt, service=service)
            return
        save_file(store, file, fmt=fmt, service=service)
    finally:
        store.close()
    click.echo(f"exported to {file}", err=True)


def _table(results: list[Any]) -> tuple[list[str], list[list[Any]]]:
    if results and all(isinstance(r, dict) and len(r) == 1 for r in results):
        columns: list[str] = []
        rows: list[dict[str, Any]] = []
        for r in results:
            ((name, content),) = r.items()
            flat = {k: v for k, v in content.items() if not isinstance(v, list | dict)}
            rows.append(flat)
            columns += [k for k in flat if k not in columns]
        return columns, [[row.get(c) for c in columns] for row in rows]
    if results and all(isinstance(r, list) for r in results):
        width = max(len(r) for r in results)
        return [f"c{i + 1}" for i in range(width)], [list(r) for r in results]
    return ["value"], [[r] for r in results]


@icat_group.command("search")
@click.argument("query")
@click.option("--as", "as_user", metavar="USER", help="Run as this user (embedded catalogue owner only).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True,
              help="json: what ICAT's REST search answers; table: one row per result.")
@pass_cli
def search_cmd(cli: CliContext, query: str, as_user: str | None, fmt: str) -> None:
    """Run an ICAT query (JPQL or concise) and print what ICAT's REST search returns.

    Example:

        mxicat icat search "SELECT ds FROM Dataset ds WHERE ds.name = 'e208339' INCLUDE ds.parameters"
    """
    from mxicat.catalogue.jsonfmt import dumps

    with _open(cli, as_user) as cat:
        results = cat.search(query)
    if fmt == "json":
        click.echo(dumps(results))
        return
    from mxicat.catalogue.jsonfmt import to_json
    from mxicat.cli.output import echo_table

    columns, rows = _table(to_json(results))
    echo_table(columns, rows)


@icat_group.command("summary")
@click.option("--as", "as_user", metavar="USER", help="Count as this user sees it (embedded owner only).")
@pass_cli
def summary_cmd(cli: CliContext, as_user: str | None) -> None:
    """Object counts of every entity type, in python-icat's icatsummary layout.

    Example:

        mxicat icat summary --as db/jdoe
    """
    from mxicat.catalogue.embedded.store import entity_counts, summary_text

    with _open(cli, as_user) as cat:
        text = summary_text(cat.user_name, entity_counts(cat))
    click.echo(text, nl=False)


COMMANDS: list[click.Command] = [init_cmd, icat_group]
