"""`provider:` in config.yaml picks the service; credentials come from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.send.providers import make_provider
from pipeline.send.providers.base import Provider
from tests.conftest import Project


@pytest.fixture
def configure(project: Project, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Config]:
    monkeypatch.setenv("NEWSLETTER_PROVIDER_TOKEN", "tok-abc")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")

    def apply(**provider: object) -> Config:
        project.edit_config(lambda raw: raw.__setitem__("provider", provider))
        return project.config()

    return apply


def _close(provider: Provider) -> None:
    asyncio.run(provider.close())


@pytest.mark.parametrize(
    ("settings", "max_batch"),
    [
        ({"name": "postmark"}, 500),
        ({"name": "sendgrid"}, 1000),
        ({"name": "mailgun", "domain": "mg.example.org"}, 1000),
        ({"name": "brevo"}, 1000),
        ({"name": "ses", "region": "eu-central-1"}, 1),
        ({"name": "smtp", "smtp": {"host": "mail.example.org"}}, 1),
    ],
)
def test_each_service_uses_its_documented_batch_size(
    configure: Callable[..., Config], settings: dict[str, object], max_batch: int
) -> None:
    provider = make_provider(configure(**settings))
    assert provider.name == settings["name"]
    assert provider.max_batch == max_batch
    _close(provider)


def test_max_batch_one_and_limits(configure: Callable[..., Config]) -> None:
    provider = make_provider(configure(name="sendgrid", max_batch=1))
    assert provider.max_batch == 1
    _close(provider)
    with pytest.raises(ConfigError, match="at most 500"):
        make_provider(configure(name="postmark", max_batch=501))


def test_a_missing_token_names_the_variable(
    configure: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = configure(name="brevo")
    monkeypatch.delenv("NEWSLETTER_PROVIDER_TOKEN")
    with pytest.raises(ConfigError, match="NEWSLETTER_PROVIDER_TOKEN"):
        make_provider(config)


def test_mailgun_needs_a_domain_and_knows_the_eu(configure: Callable[..., Config]) -> None:
    with pytest.raises(ConfigError, match=r"provider\.domain"):
        make_provider(configure(name="mailgun"))
    provider = make_provider(configure(name="mailgun", domain="mg.example.org", region="eu"))
    assert str(provider.client.base_url).startswith("https://api.eu.mailgun.net")  # type: ignore[attr-defined]
    _close(provider)


def test_base_url_overrides_every_api(configure: Callable[..., Config]) -> None:
    for settings in ({"name": "postmark"}, {"name": "brevo"}, {"name": "sendgrid"}):
        provider = make_provider(configure(base_url="http://127.0.0.1:9999/", **settings))
        assert str(provider.client.base_url).startswith("http://127.0.0.1:9999")  # type: ignore[attr-defined]
        _close(provider)
    provider = make_provider(
        configure(name="ses", region="eu-west-1", base_url="http://127.0.0.1:9999")
    )
    assert provider.base_url == "http://127.0.0.1:9999"  # type: ignore[attr-defined]
    _close(provider)


def test_ses_region_and_credentials(
    configure: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = make_provider(configure(name="ses", region="eu-west-1"))
    assert provider.base_url == "https://email.eu-west-1.amazonaws.com"  # type: ignore[attr-defined]
    _close(provider)
    with pytest.raises(ConfigError, match=r"provider\.region"):
        make_provider(configure(name="ses"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        make_provider(configure(name="ses", region="eu-west-1"))


def test_dkim_needs_selector_and_domain(configure: Callable[..., Config], project: Project) -> None:
    (project.root / "dkim.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="dkim_selector"):
        make_provider(configure(name="smtp", smtp={"dkim_key_file": "dkim.pem"}))
    with pytest.raises(ConfigError, match="cannot read"):
        make_provider(
            configure(
                name="smtp",
                smtp={"dkim_key_file": "missing.pem", "dkim_selector": "s", "dkim_domain": "d.org"},
            )
        )
