"""The webhook endpoint: verify with the provider's module, then apply the events.

Answers: 401 unproven, 403 a sender this site does not take events from (a foreign SNS
topic), 400 not the documented format, 406 a signature used before (Mailgun does not
retry a 406), 413 too large, 200 applied.
"""

from __future__ import annotations

import logging

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.errors import FetchRefused
from pipeline.web.context import context_of
from pipeline.web.webhooks import PROVIDERS
from pipeline.web.webhooks.apply import TokenUsed, apply_verified
from pipeline.web.webhooks.common import (
    BadPayload,
    Forbidden,
    Unauthorized,
    Verified,
    WebhookRequest,
    WebhookSettings,
)

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
        ses_topic_arns=frozenset(context.config.provider.ses_topic_arns),
        fetch=context.fetch,
    )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "the body is too large"}, status_code=413)
    raw = WebhookRequest(headers=request.headers, body=bytes(body))
    try:
        verified: Verified = await run_in_threadpool(module.read, raw, settings)
    except Unauthorized as exc:
        log.warning("webhook %s refused: %s", name, exc)
        return JSONResponse({"error": str(exc)}, status_code=401)
    except Forbidden as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    except (BadPayload, httpx.HTTPError, FetchRefused) as exc:
        log.warning("webhook %s: bad request: %s", name, exc)
        return JSONResponse({"error": str(exc)}, status_code=400)
    try:
        applied = await run_in_threadpool(apply_verified, context, name, verified)
    except TokenUsed as exc:
        log.warning("webhook %s refused: %s", name, exc)
        return JSONResponse({"error": str(exc)}, status_code=406)
    return JSONResponse({"events": len(verified.events), "applied": applied})


routes = [Route("/webhooks/{provider}", webhook, methods=["POST"])]
