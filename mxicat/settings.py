"""Settings: CLI > environment (``MXICAT_*``) > ``mxicat.toml`` > defaults.

Only ``mxicat.cli`` and ``mxicat.http.app`` construct :class:`Settings`; library functions take a settings
object or a catalogue explicitly.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

APP_NAME = "mxicat"


def default_catalogue_url() -> str:
    """The embedded catalogue file in the user's XDG data directory."""
    return f"sqlite:///{Path(user_data_dir(APP_NAME)) / 'mxicat.db'}"


def config_file_candidates() -> list[Path]:
    """Where ``mxicat.toml`` is looked for, first found wins."""
    return [
        Path(user_config_dir(APP_NAME)) / "mxicat.toml",
        Path("/etc/mxicat/mxicat.toml"),
        Path("mxicat.toml"),
    ]


class Peer(BaseModel):
    """A federated site."""

    name: str
    url: str
    kind: str = Field("mxicat", description="'mxicat' or 'panosc'")
    username: str | None = None
    password: SecretStr | None = None
    plugin: str | None = None


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the first ``mxicat.toml`` found (or ``MXICAT_CONFIG``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        explicit = os.environ.get("MXICAT_CONFIG")
        paths = [Path(explicit)] if explicit else config_file_candidates()
        for path in paths:
            if path.is_file():
                with path.open("rb") as fh:
                    data = tomllib.load(fh)
                return dict(data.get("mxicat", data))
        return {}


class Settings(BaseSettings):
    """Everything configurable in mxicat."""

    model_config = SettingsConfigDict(env_prefix="MXICAT_", extra="ignore")

    catalogue: str = Field(
        default_factory=default_catalogue_url,
        description="sqlite:///path for the embedded catalogue, icat+https://host[:port] for a real ICAT",
    )
    username: str | None = Field(None, description="user for a remote ICAT or a served catalogue")
    password: SecretStr | None = None
    plugin: str = Field("db", description="ICAT authenticator mnemonic used to log in")
    verify_tls: bool = True
    timeout: float = Field(30.0, description="seconds for one HTTP call to a remote catalogue")
    max_entities: int = Field(10000, description="ICAT maxEntities: larger results are refused")
    lifetime_minutes: int = Field(120, description="session lifetime")
    root_user_names: list[str] = Field(default_factory=lambda: ["simple/root"])
    auth_file: Path | None = Field(None, description="YAML file of users for the simple authenticator")
    authenticators: list[str] | None = Field(
        None, description="authenticators an embedded catalogue offers (default simple, db; anon opt-in)"
    )
    host: str = "127.0.0.1"
    port: int = 8080
    cors_origins: list[str] = Field(default_factory=list)
    peers: list[Peer] = Field(default_factory=list)
    outbox: Path = Field(
        default_factory=lambda: Path(user_data_dir(APP_NAME)) / "outbox.db",
        description="store-and-forward queue for registrations while the catalogue is unreachable",
    )
    broker: str = "stomp://127.0.0.1:61613"
    broker_vhost: str = ""
    queue: str = "/queue/icatIngest"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))
