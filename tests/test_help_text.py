"""`--help` names each option's value as a person reads it, never as a Python type."""

from __future__ import annotations

import re

import pytest

from pipeline.cli import COMMANDS, main

PYTHON_TYPES = re.compile(r"<(?:list\[|%|datetime|path|str|int|float)[^>]*>")


def _help(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*args, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_options_are_named_in_words_and_flags_take_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    commands: list[list[str]] = []
    for name, (_module, _attribute, group) in COMMANDS.items():
        if not group:
            commands.append([name])
            continue
        listed = _help([name], capsys).partition("Commands")[2]
        commands += [[name, sub] for sub in re.findall(r"^│ ([a-z][a-z-]*) ", listed, re.M)]
    assert ["queue", "add"] in commands and ["subscribers", "import"] in commands
    for command in commands:
        options = _help(command, capsys).partition("Options")[2]
        assert not PYTHON_TYPES.findall(options), (command, options)
        # A flag takes no value: nothing stands after it but its help.
        assert not re.search(r"--(?!help)[a-z-]+ +<bool>", options), (command, options)
    dated = _help(["queue", "add"], capsys)
    assert "DATE (YYYY-MM-DD)" in dated and "TOPIC" in dated
    assert "ADDRESS" in _help(["test-send"], capsys)
