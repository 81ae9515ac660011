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
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput

from pipeline.api_tokens import SCOPES
from pipeline.db import api_idempotency, items
from tests.api.conftest import Api, api_site, queue_next_item, send_one_issue
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
    # The per-token limit is tested in test_tokens.py; here it would only cut runs short.
    project.edit_config(
        lambda raw: raw.update(rate_limits={"api": {"count": 100_000, "window_s": 60}})
    )
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
    # A body over api.max_body_bytes is refused whole, before it is read: 413 is a refusal.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    # Only the document's own links: a link schemathesis infers from a list (GET /items ->
    # its first item) exists or not by what earlier examples left in the database, and
    # hypothesis takes that for a flaky strategy.
    schema.config.phases.stateful.inference.algorithms = []
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


def test_the_links_work(live_schema: schemathesis.BaseSchema, fuzzed: tuple[Api, str]) -> None:
    followed: set[str] = set()
    engine = fuzzed[0].site.engine

    class Recording(live_schema.as_state_machine()):  # type: ignore[misc]
        """Notes each link whose value reached a call that then succeeded."""

        def setup(self) -> None:
            # Each walk from the same start: the same item sent again is a 200, not a 201,
            # and the same key a replay; hypothesis replays walks and must meet the same.
            with engine.begin() as connection:
                connection.execute(sa.delete(api_idempotency))
                connection.execute(sa.delete(items).where(items.c.key.startswith("submit:")))

        def step(self, input: StepInput) -> StepOutput:
            output: StepOutput = super().step(input)
            succeeded = 200 <= output.response.status_code < 300
            if input.transition is not None and input.is_applied and succeeded:
                followed.add(input.transition.id)
            return output

    Recording.run(
        settings=settings(
            max_examples=STEPS,
            deadline=None,
            # The same walk each run (on a fresh site), so the links assertion below does
            # not hang on luck; the operations above keep drawing new data.
            derandomize=True,
            stateful_step_count=4,
            suppress_health_check=list(HealthCheck),
        )
    )
    # A subscriber or item read back through a link of the document (ids name the link).
    assert any("GetSubscriber" in link or "GetItem" in link for link in followed), followed
