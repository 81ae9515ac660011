"""The webhook endpoint: verify with the provider's module, then apply each event."""

from __future__ import annotations

import logging
from datetime import datetime

import httpx
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.db import webhook_events
from pipeline.errors import FetchRefused
from pipeline.send.ledger import cancel_pending_deliveries
from pipeline.web.context import WebContext, context_of
from pipeline.web.webhooks import PROVIDERS
from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    Unauthorized,
    WebhookRequest,
    WebhookSettings,
)
from subscribers import store
from subscribers.addresses import InvalidAddress

log = logging.getLogger(__name__)
# The largest documented payloads (SES with original headers, SendGrid batches) stay far below.
MAX_BODY_BYTES = 2_000_000


async def webhook(request: Request) -> Response:
    name = request.path_params["provider"]
    module = PROVIDERS.get(name)
    if module is None:
        return JSONResponse({"error": f"no webhook for {name!r}"}, status_code=404)
    context = context_of(request)
    settings = WebhookSettings(
        secret=context.webhook_secrets.get(name),
        now=context.clock(),
        sns_certificate_url=context.sns_certificate_url,
        fetch=context.fetch,
    )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "the body is too large"}, status_code=413)
    raw = WebhookRequest(headers=request.headers, body=bytes(body))
    try:
        events: list[BounceEvent] = await run_in_threadpool(module.read, raw, settings)
    except Unauthorized as exc:
        log.warning("webhook %s refused: %s", name, exc)
        return JSONResponse({"error": str(exc)}, status_code=401)
    except (BadPayload, httpx.HTTPError, FetchRefused) as exc:
        log.warning("webhook %s: bad request: %s", name, exc)
        return JSONResponse({"error": str(exc)}, status_code=400)
    applied = await run_in_threadpool(apply_events, context, name, events)
    return JSONResponse({"events": len(events), "applied": applied})


def apply_events(context: WebContext, provider: str, events: list[BounceEvent]) -> int:
    """Record each event once; one transaction each, so one odd address spoils no other.
    Returns how many were applied (not repeats, not invalid addresses)."""
    applied = 0
    limit = context.config.subscriptions.soft_bounce_limit
    for event in events:
        try:
            with context.engine.begin() as connection:
                if not first_delivery(connection, provider, event, context.clock()):
                    continue
                state = store.record_bounce(
                    connection, event.email, event.kind, event.detail, limit
                )
                found = store.find(connection, event.email)
                if found is not None and state in ("bounced", "complained"):
                    cancel_pending_deliveries(connection, found.id)
        except InvalidAddress:
            log.warning("webhook event for an invalid address skipped")
            continue
        applied += 1
    return applied


def first_delivery(
    connection: sa.Connection, provider: str, event: BounceEvent, at: datetime
) -> bool:
    """Note the event's id; False when it was noted before (the service sent it again)."""
    if event.event_id is None:
        return True
    try:
        with connection.begin_nested():
            connection.execute(
                sa.insert(webhook_events).values(
                    provider=provider, event_id=event.event_id, received_at=at
                )
            )
    except sa.exc.IntegrityError:
        log.info("webhook %s: event %s was applied before", provider, event.event_id)
        return False
    return True


routes = [Route("/webhooks/{provider}", webhook, methods=["POST"])]
