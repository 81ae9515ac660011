"""The configuration reference, generated from the config model so it cannot drift.

`python -m pipeline.config_docs > docs/configuration.md`; a test checks the file is current.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from pipeline.config import Config

HEADER = """# Configuration reference

Generated from `pipeline/config.py` by `python -m pipeline.config_docs`; do not edit by hand.

`config.yaml` holds no secrets. These come from the environment:

| variable | what it is |
| --- | --- |
| `NEWSLETTER_SECRET_KEY` | signs links and desk sessions (32+ chars); unset only with `--dev` |
| `NEWSLETTER_SECRET_KEY_OLD` | the key before the last change, still accepted when verifying |
| `NEWSLETTER_PROVIDER_TOKEN` | the mail service's API key |
| `NEWSLETTER_WEBHOOK_SECRET_MAILGUN` | Mailgun's HTTP webhook signing key |
| `NEWSLETTER_WEBHOOK_SECRET_SENDGRID` | the public key of SendGrid's signed event webhook |
| `NEWSLETTER_WEBHOOK_SECRET_POSTMARK` | basic-auth `user:password` in Postmark's webhook URL |
| `NEWSLETTER_WEBHOOK_SECRET_BREVO` | basic-auth `user:password` in Brevo's webhook URL |
| `NEWSLETTER_CONFIG` | the config file to use when `--config` is not given |
| `NEWSLETTER_UMASK` | the commands' umask, `077` by default; `027` or `007` lets a group in |

Relative paths (`sources.content_dir`, `provider.outbox_dir`, a relative SQLite file) are
relative to the folder of `config.yaml`. An unknown key, a wrong type or a missing
required value stops every command with one line naming the key.

| key | type | default | description |
| --- | --- | --- | --- |
"""


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " or ".join(f"`{value}`" for value in get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return " or ".join(_type_name(argument) for argument in get_args(annotation))
    if annotation is type(None):
        return "null"
    names = {str: "text", int: "integer", float: "number", bool: "true/false", Path: "path"}
    if annotation in names:
        return names[annotation]
    text = getattr(annotation, "__name__", None) or str(annotation)
    return {"HttpUrl": "URL", "EmailStr": "email address", "Annotated": "text"}.get(text, text)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is PydanticUndefined or isinstance(value, BaseModel):
        return ""
    return f"`{json.dumps(value, default=str, ensure_ascii=False)}`"


def _rows(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        nested = nested_model(annotation)
        if nested is not None:
            is_list = get_origin(annotation) is list
            kind, default = ("list of mappings", _default(field)) if is_list else ("mapping", "")
            if not is_list and not field.is_required() and _has_required(nested):
                # Its keys are required once the mapping is given: show what stands without it.
                value = field.get_default(call_default_factory=True)
                dumped = None if value is None else value.model_dump(mode="json")
                default = f"`{json.dumps(dumped)}`"
            yield f"| `{key}` | {kind} | {default} | {field.description or ''} |"
            yield from _rows(nested, f"{key}[]." if is_list else f"{key}.")
        else:
            type_name = _type_name(annotation)
            yield f"| `{key}` | {type_name} | {_default(field)} | {field.description or ''} |"


def _has_required(model: type[BaseModel]) -> bool:
    return any(field.is_required() for field in model.model_fields.values())


def nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        if isinstance(argument, type) and issubclass(argument, BaseModel):
            return argument
    return None


def reference() -> str:
    return HEADER + "\n".join(_rows(Config, "")) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
