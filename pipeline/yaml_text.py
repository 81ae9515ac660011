"""YAML as config.yaml and item files are read: safe, in C where PyYAML has libyaml, and
every problem a `yaml.MarkedYAMLError` that knows its line.

PyYAML turns `2026-13-01` into a date without checking it, and the calendar's ValueError
comes out bare: no line, and not a YAMLError, so a caller that reports YAML errors let it
through as a traceback. Here it is a constructor error at the value's place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

# libyaml's safe loader where PyYAML was built with it: a config of 500 feeds takes
# 250 ms to read in pure Python, a tenth of that in C.
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    pass


def _checked_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> dt.date | dt.datetime:
    try:
        value: dt.date | dt.datetime = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from exc
    return value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _checked_timestamp)


def load_yaml(text: str) -> Any:
    """The document's data; `yaml.YAMLError` for anything that is not valid YAML."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
