"""schemathesis against the live server, every operation of the generated document with
positive and negative data and a token of every scope: no 5xx, every answer as the
document says, and the links followed (create a subscriber, then read it).

Bounded here (FUZZ_EXAMPLES per operation, a short stateful run); `make test-full` runs
more (FUZZ_FULL=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from pipeline.api_tokens import SCOPES
from tests.api.conftest import Api, api_site
from tests.api.test_issues import queue_next_item, send_one_issue
from tests.conftest import Project

# "Schema-valid data is accepted" cannot hold here: topics are config.yaml's keys and an
# address must be one mail can go to, stricter than the document's `format: email`; those
# refusals are 422s naming the field, tested in test_subscribers.py and test_items.py.
NOT_CHECKED = [schemathesis.checks.positive_data_acceptance]
FULL = bool(os.environ.get("FUZZ_FULL"))
EXAMPLES = 100 if FULL else 6
STEPS = 60 if FULL else 12


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest, project: Project) -> Iterator[tuple[Api, str]]:
    for api in api_site(request, project):
        token = api.token(*SCOPES, name="fuzzer")
        api.site.add_active("reader@example.org")
        # A sent issue and an item for the next one: the issues' answers, not only 404s.
        send_one_issue(api.site)
        queue_next_item(api.site)
        yield api, token


@pytest.fixture
def live_schema(fuzzed: tuple[Api, str]) -> schemathesis.BaseSchema:
    api, token = fuzzed
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    schema.config.checks.positive_data_acceptance.enabled = False  # see NOT_CHECKED
    # It takes the configured header for a generated one and expects a 401 for the valid
    # token; wrong, revoked and missing tokens are tested in test_tokens.py.
    schema.config.checks.ignored_auth.enabled = False
    return schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    live_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    # Each operation on its own (schemathesis' pytest loader does not run under pytest 9).
    auth = live_schema.config.headers
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) >= 8, [operation.label for operation in operations]
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _takes_input(operation):
            continue  # nothing to get wrong

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth, excluded_checks=NOT_CHECKED)

        answers_as_documented()


def _takes_input(operation: schemathesis.APIOperation) -> bool:
    return bool(list(operation.iter_parameters())) or bool(list(operation.body))


def test_the_links_work(live_schema: schemathesis.BaseSchema) -> None:
    machine = live_schema.as_state_machine()
    machine.run(
        settings=settings(
            max_examples=STEPS,
            deadline=None,
            stateful_step_count=4,
            suppress_health_check=list(HealthCheck),
        )
    )
