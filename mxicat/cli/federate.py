"""``mxicat federate``: one dataset search on several sites at once (mxicat or PaNOSC), merged."""

from __future__ import annotations

import click

from mxicat.cli.context import CliContext, pass_cli


@click.command("federate")
@click.argument("filter_text", metavar="FILTER", required=False, default="")
@click.option("--site", "sites", multiple=True, metavar="NAME=URL[,kind]",
              help="a peer (kind mxicat or panosc; default mxicat); repeatable. Default: settings peers.")
@click.option("--timeout", type=float, default=5.0, show_default=True,
              help="seconds to wait for the sites; slower ones are reported as timeout")
@click.option("--limit", type=int, default=100, show_default=True, help="results kept after merging")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True,
              help="json: one object with the merged results and each site's status; table: two tables.")
@pass_cli
def federate_command(cli: CliContext, filter_text: str, sites: tuple[str, ...], timeout: float, limit: int,
                     fmt: str) -> None:
    """Search datasets on every site concurrently and print the merged, deduplicated results.

    Each site is asked with its own configured credentials only (settings peers), or anonymously.

    Example:

        mxicat federate 'wavelength < 1 angstrom' --site esrf=https://mx.esrf.example \\
            --site panosc=https://icatplus.esrf.fr/api,panosc --timeout 3 --format json
    """
    from mxicat.cli.output import echo_json, echo_table
    from mxicat.errors import BadParameterError
    from mxicat.federation import federate, parse_site, peers_from_settings

    peers = [parse_site(s) for s in sites] if sites else peers_from_settings(cli.settings.peers)
    if not peers:
        raise BadParameterError("no sites: give --site NAME=URL[,kind] or configure peers in mxicat.toml")
    answer = federate(peers, filter_text or None, limit=limit, timeout=timeout)
    if fmt == "json":
        echo_json(answer)
        return
    columns = ["site", "pid", "name", "investigation", "beamline", "also_at"]
    rows = [[r["site"], r["pid"], r["name"], r.get("investigation"), r.get("beamline"),
             ",".join(s for s in r["sites"] if s != r["site"])] for r in answer["results"]]
    echo_table(columns, rows, title="results")
    status = ["name", "status", "latency_ms", "count", "error"]
    echo_table(status, [[s[c] for c in status] for s in answer["sites"]], title="sites")

COMMANDS: list[click.Command] = [federate_command]
