"""Topic keys as callers give them: known to config.yaml's `topics`, or a 422 naming one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field

from pipeline.config import TOPIC_KEY, Config
from pipeline.web.api.problems import field_problem

TopicKey = Annotated[str, Field(max_length=40, pattern=TOPIC_KEY)]
TopicFilter = Annotated[
    str | None, Query(max_length=40, pattern=TOPIC_KEY, description="Only those with it.")
]


def known_topics(config: Config, topics: list[str] | None) -> tuple[str, ...] | None:
    """`topics` without repeats, or None when none were given."""
    if topics is None:
        return None
    known = [topic.key for topic in config.topics]
    unknown = [topic for topic in topics if topic not in known]
    if unknown:
        raise field_problem("topics", f"unknown topic {unknown[0]!r}; known: {', '.join(known)}")
    return tuple(dict.fromkeys(topics))
