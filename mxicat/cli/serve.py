"""``mxicat serve``: run the HTTP service (ICAT REST API at ``/icat``, plus the routers of ``http.app``)."""

from __future__ import annotations

import click

from mxicat.cli.context import CliContext, pass_cli


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (settings: host, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="TCP port (settings: port, default 8080).")
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="uvicorn log level.",
)
@pass_cli
def serve(cli: CliContext, host: str | None, port: int | None, log_level: str) -> None:
    """Serve the catalogue over HTTP until interrupted.

    The embedded catalogue (--catalogue sqlite:///path or MXICAT_CATALOGUE) is exposed through ICAT's
    REST API at /icat/..., with its own sessions and authorization, so ICAT REST clients (and mxicat's
    icat+http:// backend) can use it.

    Example:

        mxicat --catalogue sqlite:///mx.db serve --host 127.0.0.1 --port 8080
    """
    import uvicorn

    from mxicat.http.app import create_app

    settings = cli.settings
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level="debug" if cli.debug else log_level,
        access_log=cli.debug,
    )


COMMANDS: list[click.Command] = [serve]
