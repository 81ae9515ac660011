"""The mail services behind the Provider interface; one module each, registered here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.config import Config
from pipeline.config import Provider as ProviderSettings
from pipeline.environment import provider_token
from pipeline.errors import ConfigError
from pipeline.send.providers.base import Provider, SettlingProvider
from pipeline.send.providers.outbox import OutboxProvider

if TYPE_CHECKING:
    from pipeline.send.providers.smtp import SmtpServer

__all__ = ["Provider", "SettlingProvider", "make_provider", "smtp_server"]


def _token(settings: ProviderSettings) -> str:
    token = provider_token()
    if not token:
        raise ConfigError(
            f"provider.name {settings.name}: set NEWSLETTER_PROVIDER_TOKEN to the API key"
        )
    return token


def _base_url(settings: ProviderSettings) -> str | None:
    return str(settings.base_url).rstrip("/") if settings.base_url else None


def make_provider(config: Config) -> Provider:
    """The configured mail service; a missing credential or setting is a ConfigError."""
    settings = config.provider
    try:
        return _make(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _make(settings: ProviderSettings) -> Provider:
    common = {"base_url": _base_url(settings), "timeout_s": settings.timeout_s}
    if settings.name == "outbox":
        return OutboxProvider(settings.outbox_dir, settings.max_batch)
    if settings.name == "postmark":
        from pipeline.send.providers.postmark import PostmarkProvider

        return PostmarkProvider(
            _token(settings),
            max_batch=settings.max_batch,
            message_stream=settings.message_stream,
            **common,  # type: ignore[arg-type]
        )
    if settings.name == "sendgrid":
        from pipeline.send.providers.sendgrid import SendGridProvider

        return SendGridProvider(_token(settings), max_batch=settings.max_batch, **common)  # type: ignore[arg-type]
    if settings.name == "mailgun":
        from pipeline.send.providers.mailgun import MailgunProvider

        if not settings.domain:
            raise ConfigError("provider.domain: Mailgun needs the sending domain")
        region = (settings.region or "us").lower()
        if region not in ("us", "eu"):
            raise ConfigError("provider.region: Mailgun's region is `us` or `eu`")
        return MailgunProvider(
            _token(settings),
            settings.domain,
            region=region,
            max_batch=settings.max_batch,
            **common,  # type: ignore[arg-type]
        )
    if settings.name == "brevo":
        from pipeline.send.providers.brevo import BrevoProvider

        return BrevoProvider(_token(settings), max_batch=settings.max_batch, **common)  # type: ignore[arg-type]
    if settings.name == "ses":
        from pipeline.send.providers.ses import SesProvider

        if not settings.region:
            raise ConfigError("provider.region: Amazon SES needs its region, e.g. eu-central-1")
        if settings.max_batch not in (None, 1):
            raise ConfigError("provider.max_batch: Amazon SES sends one message per call")
        return SesProvider(settings.region, **common)  # type: ignore[arg-type]
    if settings.name == "smtp":
        return _smtp(settings)
    raise ConfigError(f"provider.name: {settings.name!r} is not available")


def smtp_server(settings: ProviderSettings) -> SmtpServer:
    """The relay of `provider.smtp`, with its login (password: NEWSLETTER_PROVIDER_TOKEN)."""
    from pipeline.send.providers.smtp import SmtpServer

    smtp = settings.smtp
    return SmtpServer(
        host=smtp.host,
        port=smtp.port,
        tls=smtp.tls,
        username=smtp.username,
        password=_token(settings) if smtp.username else None,
        timeout_s=settings.timeout_s,
    )


def _smtp(settings: ProviderSettings) -> Provider:
    from pipeline.send.providers.smtp import DkimKey, SmtpProvider

    smtp = settings.smtp
    server = smtp_server(settings)
    dkim_key = None
    if smtp.dkim_key_file is not None:
        if not (smtp.dkim_selector and smtp.dkim_domain):
            raise ConfigError("provider.smtp.dkim_key_file: also set dkim_selector and dkim_domain")
        try:
            dkim_key = DkimKey.load(smtp.dkim_selector, smtp.dkim_domain, smtp.dkim_key_file)
        except OSError as exc:
            raise ConfigError(
                f"provider.smtp.dkim_key_file: cannot read {smtp.dkim_key_file} ({exc.strerror})"
            ) from exc
    return SmtpProvider(
        server, max_batch=settings.max_batch, connections=settings.concurrency, dkim_key=dkim_key
    )
