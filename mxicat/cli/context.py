"""State shared by CLI commands: the global options and lazily built settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property

import click
import pydantic

from mxicat.errors import ConfigurationError
from mxicat.settings import Settings

#: setting names whose values never appear in error messages
_SECRET_WORDS = ("password", "secret", "token")


def _settings_problem(error: pydantic.ValidationError) -> str:
    """One line naming each bad setting, its value (unless secret) and why it is refused."""
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "settings"
        shown = "" if any(w in name.lower() for w in _SECRET_WORDS) else f"={item.get('input')!r}"
        parts.append(f"{name}{shown}: {item['msg']}")
    return "; ".join(parts)


@dataclass
class CliContext:
    """Global CLI options; commands read ``settings`` (CLI > env > file > defaults)."""

    catalogue_url: str | None = None
    debug: bool = False
    overrides: dict[str, object] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        """The settings, built on first use.

        Raises:
            ConfigurationError: a bad value in the environment (``MXICAT_*``), in ``mxicat.toml`` or on the
                command line, or a ``mxicat.toml`` that is not TOML.
        """
        values: dict[str, object] = dict(self.overrides)
        if self.catalogue_url:
            values["catalogue"] = self.catalogue_url
        try:
            return Settings(**values)  # type: ignore[arg-type]
        except pydantic.ValidationError as err:
            raise ConfigurationError(
                f"invalid settings (command line, MXICAT_* environment or mxicat.toml): {_settings_problem(err)}"
            ) from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigurationError(f"the mxicat.toml in use is not valid TOML: {err}") from err


pass_cli = click.make_pass_decorator(CliContext, ensure=True)
