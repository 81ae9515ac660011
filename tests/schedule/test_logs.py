"""Daemon logs: one line per event, JSON on request, no full addresses."""

from __future__ import annotations

import json
import logging

import pytest

from pipeline.logs import JsonFormatter, mask_address


def test_addresses_are_masked() -> None:
    assert mask_address("anna.schmidt@example.org") == "a***@example.org"
    assert "anna" not in mask_address("anna@example.org")


def test_json_log_line_is_one_object_with_the_event_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = logging.LogRecord(
        "newsletter.daemon", logging.INFO, __file__, 1, "send: issue %s built", (3,), None
    )
    record.issue = 3
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "send: issue 3 built"
    assert entry["level"] == "info"
    assert entry["issue"] == 3
