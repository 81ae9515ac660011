"""The config model: the one place that knows the shape of config.yaml.

Secrets never live in the file; see `pipeline.environment` for those.
"""

from __future__ import annotations

import ipaddress
import os
import re
from ipaddress import ip_network
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
    IPvAnyNetwork,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError
from pipeline.tokens import DELIVERY_TOKEN_LENGTH
from pipeline.yaml_text import load_yaml
from subscribers.addresses import InvalidAddress, normalise_address

DEFAULT_CONFIG_PATH = Path("config.yaml")
Locale = Literal["de", "en"]
ItemKind = Literal["intro", "report", "partner", "event", "news"]


def _valid_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


# arn:<partition>:sns:<region>:<account>:<topic>, as SNS names a topic in `TopicArn`.
_SNS_TOPIC_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}")


def _sns_topic_arn(arn: str) -> str:
    if not _SNS_TOPIC_ARN.fullmatch(arn):
        raise ValueError(f"{arn!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)")
    return arn


def _single_line(text: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError("must be a single line (no line breaks)")
    return text


SingleLine = Annotated[str, AfterValidator(_single_line)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(Strict):
    name: SingleLine = Field(description="Display name in the From header.")
    address: EmailStr = Field(description="The From address; its domain names Message-IDs.")


HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class Colors(Strict):
    """The issue's palette. Each text colour must keep 4.5:1 contrast on its background."""

    brand: HexColor = Field("#0b5c56", description="Header background and link colour.")
    brand_text: HexColor = Field("#ffffff", description="Text on the header's brand colour.")
    accent: HexColor = Field("#a63d17", description="Section headings and event dates.")
    page: HexColor = Field("#f3f0ea", description="Background around the issue's column.")
    card: HexColor = Field("#ffffff", description="Background of the issue's column.")
    text: HexColor = Field("#1f2933", description="Body text on the card background.")
    muted: HexColor = Field("#52606d", description="Dates, meta lines and the footer's text.")

    @model_validator(mode="after")
    def _readable(self) -> Colors:
        from pipeline.render.palette import unreadable_pairs

        problems = unreadable_pairs(self.model_dump())
        if problems:
            raise ValueError("; ".join(problems))
        return self


MAX_BASE_URL = 400


MEDIA_DIR = "media"
"""The content folder's pictures (`image: media/name.jpg`), served at `/media/...`."""


class Site(Strict):
    name: SingleLine = Field(description="The network's name, shown in the header and footer.")
    base_url: HttpUrl = Field(
        description="Public address of `newsletter serve`: unsubscribe, preferences, archive; "
        f"at most {MAX_BASE_URL} characters (its unsubscribe link must fit on a mail header line)."
    )
    locale: Locale = Field("de", description="Language for readers who have chosen none.")
    timezone: Annotated[str, AfterValidator(_valid_timezone)] = Field(
        "Europe/Berlin", description="IANA time zone for dates in issues and for schedules."
    )
    sender: Sender = Field(description="Who the newsletter comes from.")
    reply_to: EmailStr | None = Field(None, description="Where readers' replies go.")
    postal_address: str = Field(
        min_length=1, description="Postal address in every footer (required by German law)."
    )
    unsubscribe_address: EmailStr | None = Field(
        default=None,
        description="Mailbox for the mailto: unsubscribe link; the sender address by default.",
    )
    imprint_url: HttpUrl | None = Field(
        None,
        description="The imprint (Impressum) page linked from every footer and page; "
        "`serve` needs it.",
    )
    privacy_url: HttpUrl | None = Field(
        None,
        description="The privacy policy (Datenschutzerklärung) linked from every footer, page "
        "and the sign-up form's consent; `serve` needs it.",
    )
    logo_url: HttpUrl | None = Field(
        None,
        description="An https image shown above the name in the header, 64 px wide "
        "(give it 128 px or more for sharp screens); the name alone when unset.",
    )
    colors: Colors = Field(Colors(), description="The issue's colours (hex `#rrggbb`).")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        [ip_network("127.0.0.1")],
        description="Addresses or networks of the reverse proxies whose X-Forwarded-For "
        "names the client; any other peer is the client itself.",
    )

    @field_validator("base_url")
    @classmethod
    def _fits_a_header_line(cls, url: HttpUrl) -> HttpUrl:
        # List-Unsubscribe cannot fold inside a link, and no mail line may pass 998.
        if len(str(url)) > MAX_BASE_URL:
            raise ValueError(
                f"at most {MAX_BASE_URL} characters, so that the unsubscribe link fits on one "
                "header line of a mail (RFC 5322: 998)"
            )
        return url

    @property
    def url(self) -> str:
        """The base URL without a trailing slash, ready to append paths to."""
        return str(self.base_url).rstrip("/")

    @property
    def media_url(self) -> str:
        """Where `serve` serves the content folder's pictures."""
        return f"{self.url}/{MEDIA_DIR}"


class Database(Strict):
    url: str = Field(
        "sqlite:///newsletter.db",
        description="SQLAlchemy URL: SQLite embedded, or `postgresql+psycopg://...` to scale out.",
    )


class Feed(Strict):
    url: HttpUrl = Field(description="The RSS or Atom feed's address.")
    name: str = Field(min_length=1, description="How reports and `status` name this feed.")
    kind: ItemKind = Field("news", description="The section its entries go into.")
    topics: list[str] = Field(
        [],
        description="Topics (keys of `topics`) every item of this feed carries, besides those "
        "its entries' own categories name; none: the items go to every reader.",
    )


def _css_selector(selector: str) -> str:
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError as exc:
        raise ValueError(f"{selector!r} is not a CSS selector selectolax can read") from exc
    return selector


CssSelector = Annotated[str, Field(min_length=1), AfterValidator(_css_selector)]


class PageSelectors(Strict):
    """CSS selectors: `entry` on the page, the others inside each entry."""

    entry: CssSelector = Field(description="Each news entry on the listing page.")
    title: CssSelector = Field(description="The entry's title, inside the entry.")
    link: CssSelector = Field(
        description="Inside the entry: the element whose first `a[href]` (itself, or inside "
        "it) links to the article; resolved against the page's address."
    )
    date: CssSelector | None = Field(
        None,
        description="The entry's date: a `<time datetime>` or text such as \"17. Februar "
        '2022", "17. Feb. 2022" or "17.02.2022"; without it, the day it was first seen.',
    )
    summary: CssSelector | None = Field(
        None,
        description="The entry's teaser text; without it, the summary is the linked "
        "article's main text, shortened.",
    )
    image: CssSelector | None = Field(
        None, description="The entry's image: an `<img>`, or the element holding one."
    )


class Page(Strict):
    url: HttpUrl = Field(description="The listing page: the site's page of news entries.")
    name: str = Field(min_length=1, description="How reports and `status` name this page.")
    kind: ItemKind = Field("news", description="The section its entries go into.")
    topics: list[str] = Field(
        [],
        description="Topics (keys of `topics`) every item of this page carries; none: the "
        "items go to every reader.",
    )
    selectors: PageSelectors = Field(description="Where on the page each entry's parts are.")


class Calendar(Strict):
    url: HttpUrl = Field(description="The calendar's .ics address.")
    name: str = Field(min_length=1, description="How reports and `status` name this calendar.")
    topics: list[str] = Field(
        [], description="The topics of its events (keys of `topics`); none: every reader's."
    )


class Sources(Strict):
    content_dir: Path = Field(Path("content"), description="The editors' Markdown items.")
    feeds: list[Feed] = Field([], description="Feeds to collect.")
    calendars: list[Calendar] = Field(
        [], description="Calendars (.ics) to collect: every occurrence becomes an event item."
    )
    pages: list[Page] = Field(
        [],
        description="Web pages without a feed, read with CSS selectors "
        '(docs/operations.md, "Web pages without a feed").',
    )

    def named_topics(self) -> list[tuple[str, list[str]]]:
        """Each source's topics with the key that names them (`sources.feeds.0.topics`)."""
        named = [(f"sources.feeds.{n}.topics", feed.topics) for n, feed in enumerate(self.feeds)]
        named += [(f"sources.pages.{n}.topics", p.topics) for n, p in enumerate(self.pages)]
        return named + [
            (f"sources.calendars.{n}.topics", c.topics) for n, c in enumerate(self.calendars)
        ]


def _known_topics(known: list[str]) -> str:
    if not known:
        return "config.yaml's `topics` names none"
    return "config.yaml's `topics` are " + ", ".join(known)


class Collect(Strict):
    concurrency: int = Field(16, ge=1, le=256, description="Feeds (and pages) fetched at once.")
    per_host: int = Field(
        2,
        ge=1,
        le=16,
        description="Requests at a time to one web site, for pages and their articles "
        "(feeds are fetched by `concurrency` alone).",
    )
    timeout_s: float = Field(
        15, gt=0, description="Seconds one feed (one page, one article) may take."
    )
    max_bytes: int = Field(
        5_000_000,
        gt=0,
        description="A feed (page, article) larger than this, once unpacked, is refused.",
    )
    max_age_days: int | None = Field(
        60,
        ge=1,
        description="Feed entries older than this many days expire instead of being queued "
        "(content-folder items expire only by their `expires`, events when they begin); "
        "null keeps them all.",
    )
    calendar_days: int = Field(
        90, ge=1, le=3660, description="How many days ahead a calendar's occurrences are read."
    )


class IssueSettings(Strict):
    subject: SingleLine = Field(
        min_length=1, description="Subject line; `{number}` and `{date}` are filled in."
    )
    min_items: int = Field(1, ge=1, description="Fewer new items than this: no issue is sent.")
    require_approval: bool = Field(False, description="Only approved items go into an issue.")
    max_items_per_section: int = Field(10, ge=1, description="Cap per section of an issue.")
    event_days: int = Field(
        14,
        ge=1,
        description="How many days ahead a manual send (`newsletter send`, the preview) lists "
        "calendars' occurrences; the scheduled send lists those that begin before the issue "
        "after next (by `schedule.send`).",
    )
    templates_dir: Path | None = Field(
        None,
        description="A folder whose templates replace the built-in ones of the same name "
        "(e.g. `partials/footer.mjml.j2`).",
    )

    @field_validator("subject")
    @classmethod
    def _known_placeholders(cls, subject: str) -> str:
        try:
            subject.format(number=1, date="1. Januar 2026")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"unknown placeholder {exc}; use {{number}} or {{date}}") from exc
        return subject


class Smtp(Strict):
    host: str = Field(
        "localhost", description="The SMTP server (password: NEWSLETTER_PROVIDER_TOKEN)."
    )
    port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS.")
    tls: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="`starttls` upgrades on 587, `tls` from the start (465), `none`."
    )
    username: str | None = Field(None, description="Login name; no login when unset.")
    dkim_selector: str | None = Field(None, description="DKIM selector (`<selector>._domainkey`).")
    dkim_domain: str | None = Field(None, description="DKIM signing domain (d=).")
    dkim_key_file: Path | None = Field(
        None, description="PEM private key for DKIM signing; signing is on when set."
    )


ProviderName = Literal["outbox", "smtp", "postmark", "sendgrid", "mailgun", "brevo", "ses"]


class Provider(Strict):
    name: ProviderName = Field("outbox", description="The mail service.")
    base_url: HttpUrl | None = Field(
        None, description="Overrides the API's address (EU regions, test servers)."
    )
    rate_per_s: float = Field(50, gt=0, description="Recipients a second, across all processes.")
    outbox_dir: Path = Field(Path("outbox"), description="Where the outbox writes `.eml` files.")
    max_batch: int | None = Field(
        None, ge=1, description="Messages per API call; the API's documented maximum by default."
    )
    concurrency: int = Field(4, ge=1, le=64, description="API calls in flight at once.")
    max_attempts: int = Field(5, ge=1, description="Tries per message before it counts as failed.")
    lease_s: float = Field(
        60,
        gt=0,
        description="How long a worker's claim on a batch lasts; a batch claimed by a worker "
        "that died is taken over by the others after this.",
    )
    crash_policy: Literal["at_most_once", "at_least_once"] = Field(
        "at_most_once",
        description="What `send --resume` does with messages caught mid-send by a crash.",
    )
    domain: str | None = Field(None, description="Mailgun's sending domain.")
    region: str | None = Field(None, description="Amazon SES's region.")
    ses_topic_arns: list[Annotated[str, AfterValidator(_sns_topic_arn)]] = Field(
        [],
        description="The SNS topics whose SES notifications `/webhooks/ses` accepts (and "
        "whose subscriptions it confirms); any other topic is refused with 403.",
    )
    message_stream: str = Field("broadcast", description="Postmark's message stream.")
    timeout_s: float = Field(30, gt=0, description="Seconds one API call may take.")
    smtp: Smtp = Field(Smtp(), description="The SMTP server, for `name: smtp`.")


class Schedule(Strict):
    collect: str = Field("*/30 * * * *", description="Cron expression for `collect`.")
    send: str = Field("0 9 * * thu", description="Cron expression for building and sending.")
    send_grace_minutes: int = Field(
        60,
        ge=0,
        description="A send that would start later than this after its time (the daemon was "
        "stopped, the machine was off) is skipped and reported, never sent blindly.",
    )
    leader_lease_s: int = Field(
        30,
        ge=5,
        description="On SQLite, how long the daemon's lock lasts without renewal; a second "
        "daemon takes over after it lapses.",
    )

    bounces: str = Field(
        "*/5 * * * *", description="Cron expression for reading the bounce mailbox."
    )

    @field_validator("collect", "send", "bounces")
    @classmethod
    def _valid_cron(cls, expression: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(expression)
        except ValueError as exc:
            raise ValueError(f"not a valid cron expression ({exc})") from exc
        return expression


class Subscriptions(Strict):
    confirm_expiry_days: float = Field(
        7, gt=0, description="Days a confirmation link in the opt-in mail stays valid."
    )
    consent_text_version: str = Field(
        "1", min_length=1, description="Version of the sign-up form's consent text, recorded."
    )
    rate_limit: int = Field(
        5, ge=1, description="Sign-ups one network (IPv4 address, IPv6 /64) may send per window."
    )
    rate_limit_window_s: float = Field(600, gt=0, description="The rate limit's window, seconds.")
    soft_bounce_limit: int = Field(
        3,
        ge=1,
        description="Soft bounces within `soft_bounce_days` after which an address is suppressed.",
    )
    soft_bounce_days: float = Field(
        30, gt=0, description="The window in which soft bounces count towards the limit, days."
    )


class RateLimit(Strict):
    """At most `count` at once, then one more every `window_s / count` seconds."""

    count: int = Field(ge=1, description="Requests allowed per window.")
    window_s: float = Field(gt=0, description="The window, seconds.")


class RateLimits(Strict):
    """Limits kept in the database, shared by every `serve` process (sign-ups: `subscriptions`)."""

    desk_sign_in: RateLimit = Field(
        RateLimit(count=5, window_s=600),
        description="Desk sign-in requests one network (IPv4 address, IPv6 /64) may send.",
    )
    submission: RateLimit = Field(
        RateLimit(count=5, window_s=3600),
        description="Submissions through `/submit` one network (IPv4 address, IPv6 /64) "
        "may send, the partners' links included.",
    )
    mails_to_address: RateLimit = Field(
        RateLimit(count=5, window_s=3600),
        description="Confirmation mails and desk sign-in links one address may be sent, "
        "whoever asks; more requests are answered as usual and send nothing.",
    )
    api: RateLimit = Field(
        RateLimit(count=120, window_s=60),
        description="Requests one API token may make. A `subscribers:signup` token is public "
        "(it sits in a web page), so its sign-ups also count against `subscriptions.rate_limit` "
        "per network, as the form's do.",
    )


class TopicLabel(Strict):
    de: str = Field(description="German label.")
    en: str = Field(description="English label.")


TOPIC_KEY = r"^[a-z0-9][a-z0-9_-]*$"


class Topic(Strict):
    key: str = Field(pattern=TOPIC_KEY, description="Used in items' `topics`.")
    label: TopicLabel = Field(description="What subscribers see.")


def is_loopback(host: str) -> bool:
    """`localhost`, or an address of the loopback network (127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BounceMailbox(Strict):
    """The mailbox bounces come back to (password: NEWSLETTER_BOUNCE_PASSWORD)."""

    protocol: Literal["imap", "pop3"] = Field("imap", description="`imap` or `pop3`.")
    host: str = Field(min_length=1, description="The mail server.")
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Default: 993 (IMAP) or 995 (POP3) with `tls`, 143 or 110 otherwise.",
    )
    username: str = Field(min_length=1, description="Login name.")
    tls: Literal["tls", "starttls", "none"] = Field(
        "tls", description="`tls` from the start, `starttls`, or `none` (loopback hosts only)."
    )
    folder: str = Field("INBOX", min_length=1, description="IMAP: the folder bounces arrive in.")
    processed_folder: str = Field(
        "processed", min_length=1, description="IMAP: where recognised messages are moved."
    )
    unrecognised_folder: str = Field(
        "unrecognised",
        min_length=1,
        description="IMAP: where bounces that name no delivery of ours are moved.",
    )

    @model_validator(mode="after")
    def _tls_off_only_on_loopback(self) -> BounceMailbox:
        if self.tls == "none" and not is_loopback(self.host):
            raise ValueError(
                f"tls: none sends the mailbox password in clear text; it is allowed only for "
                f"a loopback host, not {self.host!r}"
            )
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        if self.protocol == "imap":
            return 993 if self.tls == "tls" else 143
        return 995 if self.tls == "tls" else 110


class Bounces(Strict):
    address: EmailStr | None = Field(
        None,
        description="The VERP envelope sender of SMTP mail, `bounces+TOKEN@domain` built from "
        "it, and the mailto: of List-Unsubscribe; a mailbox on a domain you control.",
    )
    verp: bool = Field(
        True,
        description="Put each delivery's token in the envelope sender (`bounces+TOKEN@`). "
        "`false` sends from the bare address, for a relay that refuses `+` senders "
        "(`newsletter bounces check` tells); bounces are then matched by the headers they "
        "bring back.",
    )
    mailbox: BounceMailbox | None = Field(
        None, description="Where bounces are read from; nothing is read when unset."
    )
    keep_days: float = Field(
        90, gt=0, description="Days a read bounce message is kept in the database."
    )
    forward_replies_to: EmailStr | None = Field(
        None,
        description="Where a reader's real reply to the bounce address is forwarded; left in "
        "the mailbox when unset.",
    )

    @field_validator("address")
    @classmethod
    def _room_for_token(cls, address: str | None) -> str | None:
        if address is None:
            return None
        local = address.rpartition("@")[0]
        if "+" in local:
            raise ValueError("the bounce address must not carry a `+` (the token goes after it)")
        if len(local) + 1 + DELIVERY_TOKEN_LENGTH > 64:
            raise ValueError(
                f"its local part {local!r} leaves no room for the {DELIVERY_TOKEN_LENGTH}"
                "-character token within the 64 characters a local part may have"
            )
        return address


class Submit(Strict):
    """The `/submit` form, where partners send news in."""

    partners_only: bool = Field(
        False,
        description="Accept only submissions through a partner's personal link "
        "(`newsletter partners add`); `/submit` itself then only says so.",
    )


ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$|^http://\[[0-9a-f:]+\](:[0-9]{1,5})?$")


class Api(Strict):
    """The JSON API at `/api/v1` (tokens: `newsletter api tokens create`)."""

    cors_origins: list[str] = Field(
        [],
        description="Web origins (`https://www.example.org`, no path) whose pages may call "
        "the API from a browser, e.g. a sign-up box; empty: no browser calls from elsewhere.",
    )
    max_body_bytes: int = Field(
        65536, ge=1024, description="Largest request body the API reads; more is refused (413)."
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme and host in lower case, an optional "
                    "port, no path (https://www.example.org)"
                )
        return origins


class Analytics(Strict):
    clicks: bool = Field(
        True,
        description="Send the issue's links through `/r/<token>` on `serve` and count the "
        "clicks (anonymously, unless a reader agreed to personalised statistics).",
    )
    opens: bool = Field(
        False,
        description="Put a 1x1 image in each mail and count its loads. Off by default: "
        "privacy proxies (Apple Mail) load every image, so opens say little.",
    )
    scanner_window_s: float = Field(
        10,
        ge=0,
        description="A click within this many seconds after the minute its batch was "
        "sent in counts as a link scanner's, not a reader's (a link names only the minute, "
        "so no one's send time is known to the second); 0 turns the rule off.",
    )
    retention_days: int = Field(
        395,
        ge=1,
        description="Days clicks and opens keep the reader who agreed to personalised "
        "statistics; after that they count on anonymously.",
    )
    consent_text_version: str = Field(
        "1",
        min_length=1,
        description="Version of the personalised statistics consent text, recorded.",
    )


class Config(Strict):
    site: Site = Field(description="Who sends, and where its pages live.")
    database: Database = Field(
        Database(), description="Where the queue, ledger and subscribers live."
    )
    sources: Sources = Field(Sources(), description="Where news items come from.")
    collect: Collect = Field(Collect(), description="How feeds and pages are fetched.")
    issue: IssueSettings = Field(description="What goes into an issue.")
    provider: Provider = Field(Provider(), description="The mail service that delivers.")
    schedule: Schedule = Field(Schedule(), description="When `newsletter run` collects and sends.")
    topics: list[Topic] = Field([], description="Topics subscribers may choose; items carry them.")
    subscriptions: Subscriptions = Field(
        Subscriptions(), description="Sign-up, confirmation and bounce handling."
    )
    editors: list[EmailStr] = Field(
        [],
        description="Who may sign in to the editors' desk; the sign-in link is mailed to the "
        'address as written here. Compared by the rule of docs/operations.md, "How addresses '
        'are compared".',
    )
    rate_limits: RateLimits = Field(
        RateLimits(), description="Requests per network and mails per address, for every process."
    )
    bounces: Bounces = Field(
        Bounces(), description="The bounce mailbox of SMTP senders, and its VERP address."
    )
    analytics: Analytics = Field(
        Analytics(), description="What is counted after the send: clicks, opens, consent."
    )
    submit: Submit = Field(Submit(), description="The `/submit` form for partners' news.")
    api: Api = Field(Api(), description="The JSON API at `/api/v1`.")

    @model_validator(mode="after")
    def _known_source_topics(self) -> Config:
        known = [topic.key for topic in self.topics]
        problems = [
            f"{key}: unknown topic {topic!r} ({_known_topics(known)})"
            for key, topics in self.sources.named_topics()
            for topic in topics
            if topic not in known
        ]
        if problems:
            raise ValueError(TOP_LEVEL_KEYED + "; ".join(problems))
        return self

    @field_validator("editors")
    @classmethod
    def _comparable_editors(cls, editors: list[str]) -> list[str]:
        for editor in editors:
            try:
                normalise_address(editor)
            except InvalidAddress as exc:
                raise ValueError(f"{editor}: {exc}") from exc
        return editors

    def resolve_paths(self, base: Path) -> Config:
        """Make relative paths relative to the config file's folder, not the caller's."""
        sources = self.sources.model_copy(update={"content_dir": base / self.sources.content_dir})
        smtp = self.provider.smtp
        if smtp.dkim_key_file is not None:
            smtp = smtp.model_copy(update={"dkim_key_file": base / smtp.dkim_key_file})
        provider = self.provider.model_copy(
            update={"outbox_dir": base / self.provider.outbox_dir, "smtp": smtp}
        )
        issue = self.issue
        if issue.templates_dir is not None:
            issue = issue.model_copy(update={"templates_dir": base / issue.templates_dir})
        database = self.database
        prefix = "sqlite:///"
        if database.url.startswith(prefix) and not database.url.startswith(prefix + "/"):
            relative = database.url.removeprefix(prefix)
            if relative and relative != ":memory:":
                database = Database(url=prefix + str(base / relative))
        return self.model_copy(
            update={"sources": sources, "provider": provider, "database": database, "issue": issue}
        )


def config_path_from_env(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    return Path(os.environ.get("NEWSLETTER_CONFIG", DEFAULT_CONFIG_PATH))


def load_config(path: Path) -> Config:
    """Read and validate config.yaml; any problem becomes one ConfigError naming the key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8"
        ) from exc
    try:
        raw = load_yaml(text)
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


TOP_LEVEL_KEYED = "keyed: "
"""Starts the message of a check across sections that names its keys itself."""


def describe_validation_error(exc: ValidationError) -> str:
    """Name every failing key in one line: `site.base_url: Input should be a valid URL`."""
    parts = []
    for error in exc.errors():
        keyed = str((error.get("ctx") or {}).get("error", "")).partition(TOP_LEVEL_KEYED)[2]
        if keyed:
            parts.append(keyed)
            continue
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            parts.append(f"{key}: unknown key")
        elif error["type"] == "missing":
            parts.append(f"{key}: required but missing")
        else:
            parts.append(f"{key}: {error['msg']}")
    return "; ".join(parts)
