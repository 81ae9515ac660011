"""The mail services behind the Provider interface; one module each, registered here."""

from __future__ import annotations

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.send.providers.base import Provider
from pipeline.send.providers.outbox import OutboxProvider

__all__ = ["Provider", "make_provider"]


def make_provider(config: Config) -> Provider:
    settings = config.provider
    if settings.name == "outbox":
        return OutboxProvider(settings.outbox_dir, settings.max_batch)
    raise ConfigError(f"provider.name: {settings.name!r} is not available yet")
