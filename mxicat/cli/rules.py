"""``mxicat rules ...`` (the MX default policy for a real ICAT) and ``mxicat user ...`` (db/simple logins)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa

from mxicat.catalogue.embedded.auth import DbAuthenticator, hash_password, write_simple_user
from mxicat.catalogue.embedded.rules_default import (
    beamline_group_rules,
    default_public_steps,
    default_rules,
    policy_dump_yaml,
    policy_entities,
)
from mxicat.cli.context import CliContext, pass_cli
from mxicat.errors import BadParameterError, ConfigurationError


@click.group("rules")
def rules_group() -> None:
    """Authorization rules (ICAT Rule/Grouping/PublicStep).

    Example:

        mxicat rules export -o mx-policy.yaml
    """


@rules_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: python-icat dump chunk for icatingest; json: REST entities for POST /icat/entityManager.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="file (default stdout)")
@click.option(
    "--beamline-group",
    "beamline_groups",
    multiple=True,
    metavar="GROUPING=INSTRUMENT",
    help="also give GROUPING read access to every session of beamline INSTRUMENT (repeatable).",
)
def export_cmd(fmt: str, output: Path | None, beamline_groups: tuple[str, ...]) -> None:
    """Write the MX default policy for installation on a real ICAT.

    Example:

        mxicat rules export --beamline-group id23eh2-staff=id23eh2 -o mx-policy.yaml
    """
    rules = default_rules()
    for spec in beamline_groups:
        grouping, sep, instrument = spec.partition("=")
        if not sep or not grouping or not instrument:
            raise BadParameterError(f"--beamline-group {spec!r}: expected GROUPING=INSTRUMENT")
        rules += beamline_group_rules(grouping, instrument)
    steps = default_public_steps()
    if fmt == "yaml":
        text = policy_dump_yaml(rules, steps, date=datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"))
    else:
        text = json.dumps(policy_entities(rules, steps), indent=1) + "\n"
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


@click.group("user")
def user_group() -> None:
    """Logins of the embedded catalogue's db and simple authenticators.

    Example:

        mxicat --catalogue sqlite:///mx.db user list
    """


def _db(cli: CliContext) -> DbAuthenticator:
    url = cli.settings.catalogue
    if not url.startswith("sqlite:"):
        raise ConfigurationError(f"db users live in an embedded catalogue (sqlite:///...), not {url}")
    path = url.split("sqlite:///", 1)[-1]
    if path and not Path(path).exists():
        raise ConfigurationError(f"catalogue file {path} does not exist (run 'mxicat init' first)")
    return DbAuthenticator(sa.create_engine(url))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


_stdin_opt = click.option("--password-stdin", is_flag=True, help="read the password from stdin")


@user_group.command("add")
@click.argument("name")
@click.option("--simple", "simple", is_flag=True, help="add to the simple authenticator's file instead")
@_stdin_opt
@pass_cli
def user_add(cli: CliContext, name: str, simple: bool, password_stdin: bool) -> None:
    """Add login NAME (user name db/NAME, or simple/NAME with --simple) or set its password.

    Example:

        echo "$PASSWORD" | mxicat --catalogue sqlite:///mx.db user add jdoe --password-stdin
    """
    password = _password(password_stdin)
    if simple:
        path = cli.settings.auth_file
        if path is None:
            raise ConfigurationError("no auth_file configured (MXICAT_AUTH_FILE) for the simple authenticator")
        write_simple_user(Path(path), name, password)
        click.echo(f"simple/{name}")
    else:
        _db(cli).set_password(name, password)
        click.echo(f"db/{name}")


@user_group.command("passwd")
@click.argument("name")
@_stdin_opt
@pass_cli
def user_passwd(cli: CliContext, name: str, password_stdin: bool) -> None:
    """Change the password of db login NAME.

    Example:

        mxicat --catalogue sqlite:///mx.db user passwd jdoe
    """
    db = _db(cli)
    if name not in db.users():
        raise BadParameterError(f"no db login {name!r}")
    db.set_password(name, _password(password_stdin))


@user_group.command("remove")
@click.argument("name")
@pass_cli
def user_remove(cli: CliContext, name: str) -> None:
    """Remove db login NAME (the ICAT User object, if any, stays).

    Example:

        mxicat --catalogue sqlite:///mx.db user remove jdoe
    """
    if not _db(cli).remove(name):
        raise BadParameterError(f"no db login {name!r}")


@user_group.command("list")
@pass_cli
def user_list(cli: CliContext) -> None:
    """List db logins.

    Example:

        mxicat --catalogue sqlite:///mx.db user list
    """
    for name in _db(cli).users():
        click.echo(f"db/{name}")


@user_group.command("hash")
@_stdin_opt
def user_hash(password_stdin: bool) -> None:
    """Print a salted scrypt hash for a simple-authenticator file entry.

    Example:

        echo "$PASSWORD" | mxicat user hash --password-stdin
    """
    click.echo(hash_password(_password(password_stdin)))


COMMANDS: list[click.Command] = [rules_group, user_group]
