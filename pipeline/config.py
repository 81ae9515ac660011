"""The config model: the one place that knows the shape of config.yaml.

Secrets never live in the file; see `pipeline.environment` for those.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
)

from pipeline.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")
Locale = Literal["de", "en"]
ItemKind = Literal["intro", "report", "partner", "event", "news"]


def _valid_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _single_line(text: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError("must be a single line (no line breaks)")
    return text


SingleLine = Annotated[str, AfterValidator(_single_line)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(Strict):
    name: SingleLine
    address: EmailStr


class Site(Strict):
    name: SingleLine
    base_url: HttpUrl
    locale: Locale = "de"
    timezone: Annotated[str, AfterValidator(_valid_timezone)] = "Europe/Berlin"
    sender: Sender
    reply_to: EmailStr | None = None
    postal_address: str = Field(min_length=1)
    unsubscribe_address: EmailStr | None = Field(
        default=None,
        description="Mailbox for the mailto: unsubscribe link; the sender address by default.",
    )

    @property
    def url(self) -> str:
        """The base URL without a trailing slash, ready to append paths to."""
        return str(self.base_url).rstrip("/")


class Database(Strict):
    url: str = "sqlite:///newsletter.db"


class Feed(Strict):
    url: HttpUrl
    name: str = Field(min_length=1)
    kind: ItemKind = "news"


class Sources(Strict):
    content_dir: Path = Path("content")
    feeds: list[Feed] = []


class Collect(Strict):
    concurrency: int = Field(16, ge=1, le=256)
    timeout_s: float = Field(15, gt=0)
    max_bytes: int = Field(5_000_000, gt=0)


class IssueSettings(Strict):
    subject: SingleLine = Field(
        min_length=1, description="Subject line; `{number}` and `{date}` are filled in."
    )
    min_items: int = Field(1, ge=1)
    require_approval: bool = False
    max_items_per_section: int = Field(10, ge=1)

    @field_validator("subject")
    @classmethod
    def _known_placeholders(cls, subject: str) -> str:
        try:
            subject.format(number=1, date="1. Januar 2026")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"unknown placeholder {exc}; use {{number}} or {{date}}") from exc
        return subject


ProviderName = Literal["outbox", "smtp", "postmark", "sendgrid", "mailgun", "brevo", "ses"]


class Provider(Strict):
    name: ProviderName = "outbox"
    base_url: HttpUrl | None = None
    rate_per_s: float = Field(50, gt=0)
    outbox_dir: Path = Path("outbox")
    max_batch: int | None = Field(None, ge=1)
    concurrency: int = Field(4, ge=1, le=64)
    max_attempts: int = Field(5, ge=1)
    crash_policy: Literal["at_most_once", "at_least_once"] = "at_most_once"
    domain: str | None = None
    region: str | None = None


class Schedule(Strict):
    collect: str = "*/30 * * * *"
    send: str = "0 9 * * thu"


class TopicLabel(Strict):
    de: str
    en: str


class Topic(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    label: TopicLabel


class Config(Strict):
    site: Site
    database: Database = Database()
    sources: Sources = Sources()
    collect: Collect = Collect()
    issue: IssueSettings
    provider: Provider = Provider()
    schedule: Schedule = Schedule()
    topics: list[Topic] = []
    editors: list[EmailStr] = []

    def resolve_paths(self, base: Path) -> Config:
        """Make relative paths relative to the config file's folder, not the caller's."""
        sources = self.sources.model_copy(update={"content_dir": base / self.sources.content_dir})
        provider = self.provider.model_copy(update={"outbox_dir": base / self.provider.outbox_dir})
        database = self.database
        prefix = "sqlite:///"
        if database.url.startswith(prefix) and not database.url.startswith(prefix + "/"):
            relative = database.url.removeprefix(prefix)
            if relative and relative != ":memory:":
                database = Database(url=prefix + str(base / relative))
        return self.model_copy(
            update={"sources": sources, "provider": provider, "database": database}
        )


def config_path_from_env(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    return Path(os.environ.get("NEWSLETTER_CONFIG", DEFAULT_CONFIG_PATH))


def load_config(path: Path) -> Config:
    """Read and validate config.yaml; any problem becomes one ConfigError naming the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from exc
    return config.resolve_paths(path.resolve().parent)


def describe_validation_error(exc: ValidationError) -> str:
    """Name every failing key in one line: `site.base_url: Input should be a valid URL`."""
    parts = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            parts.append(f"{key}: unknown key")
        elif error["type"] == "missing":
            parts.append(f"{key}: required but missing")
        else:
            parts.append(f"{key}: {error['msg']}")
    return "; ".join(parts)
