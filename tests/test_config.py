"""config.yaml errors name the key and what is wrong, in one line, with a non-zero exit."""

from __future__ import annotations

import pytest

from tests.conftest import Project


def _error_line(project: Project) -> str:
    result = project.run("collect", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_key_is_named(project: Project) -> None:
    project.edit_config(lambda raw: raw["provider"].update(rate_per_sec=10))  # type: ignore[union-attr]
    line = _error_line(project)
    assert "provider.rate_per_sec: unknown key" in line


def test_wrong_type_is_named(project: Project) -> None:
    project.edit_config(lambda raw: raw["provider"].update(rate_per_s="fast"))  # type: ignore[union-attr]
    line = _error_line(project)
    assert "provider.rate_per_s" in line
    assert "number" in line


def test_missing_required_value_is_named(project: Project) -> None:
    project.edit_config(lambda raw: raw["site"].pop("postal_address"))  # type: ignore[union-attr]
    assert "site.postal_address: required but missing" in _error_line(project)


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("site", "base_url", "not a url", "site.base_url"),
        ("site", "timezone", "Europe/Atlantis", "unknown time zone"),
        ("site", "locale", "fr", "site.locale"),
        ("issue", "subject", "Ausgabe {nummer}", "unknown placeholder"),
        ("provider", "name", "carrier-pigeon", "provider.name"),
        ("provider", "crash_policy", "sometimes", "provider.crash_policy"),
        ("site", "trusted_proxies", ["proxy.example.org"], "site.trusted_proxies.0"),
        (
            "site",
            "base_url",
            "https://example.org/" + "n" * 400,
            "site.base_url: Value error, at most 400",
        ),
    ],
)
def test_bad_values_are_named(
    project: Project, section: str, key: str, value: object, expected: str
) -> None:
    project.edit_config(lambda raw: raw[section].update({key: value}))  # type: ignore[union-attr]
    assert expected in _error_line(project)


def test_a_calendars_unknown_topic_and_a_bad_window_are_named(project: Project) -> None:
    calendar = {"url": "https://kulturhaus.example.org/termine.ics", "name": "Kulturhaus"}
    project.edit_config(
        lambda raw: raw["sources"].update(calendars=[calendar | {"topics": ["theater"]}])  # type: ignore[union-attr]
    )
    line = _error_line(project)
    assert "sources.calendars.0.topics: unknown topic 'theater'" in line
    assert "netzwerk" in line  # the topics there are
    project.edit_config(
        lambda raw: raw["sources"].update(calendars=[calendar | {"url": "termine.ics"}])  # type: ignore[union-attr]
    )
    assert "sources.calendars.0.url" in _error_line(project)
    project.edit_config(lambda raw: raw["sources"].update(calendars=[calendar]))  # type: ignore[union-attr]
    project.edit_config(lambda raw: raw.update(collect={"calendar_days": 0}))
    assert "collect.calendar_days" in _error_line(project)


def test_subject_with_a_line_break_is_refused(project: Project) -> None:
    """A header injection through config is stopped before any mail is built."""
    project.edit_config(
        lambda raw: raw["issue"].update(subject="Hallo\nBcc: everyone@example.org")  # type: ignore[union-attr]
    )
    assert "issue.subject" in _error_line(project)


def test_invalid_yaml_names_the_line(project: Project) -> None:
    project.config_path.write_text("site:\n  name: [unclosed\n", encoding="utf-8")
    line = _error_line(project)
    assert "config.yaml:" in line
    assert "not valid YAML" in line


def test_a_config_that_is_not_utf8_names_the_line(project: Project) -> None:
    text = project.config_path.read_bytes()
    project.config_path.write_bytes(text + b"# Stra\xdfe in Latin-1\n")
    last_line = len(text.splitlines()) + 1
    assert f"config.yaml:{last_line}: not UTF-8 text (byte 0xdf)" in _error_line(project)


def test_missing_config_file(project: Project) -> None:
    project.config_path.unlink()
    assert "cannot read the config file" in _error_line(project)


def test_commands_refuse_an_unmigrated_database(project: Project) -> None:
    result = project.run("collect", check=False)
    assert result.returncode == 1
    assert "newsletter db upgrade" in result.stderr


def test_an_sqlite_too_old_for_the_ledger_is_named(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An old SQLite cannot be installed beside the real one: its version is what changes.
    monkeypatch.setattr("sqlite3.sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr("sqlite3.sqlite_version", "3.31.1")
    line = _error_line(project)
    assert "database.url: SQLite 3.31.1 is too old" in line
    assert "3.35" in line
