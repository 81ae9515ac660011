"""What wraps every API request: the body cap, CORS, and the RateLimit headers.

One pure ASGI layer, so a refused body or origin is answered as a problem before FastAPI
reads anything, and the headers an endpoint noted reach its answer whatever it returns.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.web.api.problems import problem_response

ALLOWED_METHODS = "GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
EXPOSED_HEADERS = "Location, RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed"
PREFLIGHT_MAX_AGE_S = 600


class ApiEdge:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, cors_origins: list[str]):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.cors_origins = frozenset(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin in self.cors_origins
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, receive, send, allowed)
            return
        body = await self._read_capped(headers, receive)
        if body is None:
            response = problem_response(
                413, f"The request body is larger than {self.max_body_bytes} bytes."
            )
            await response(scope, receive, send)
            return
        state: dict[str, dict[str, str]] = scope.setdefault("state", {})

        async def replay() -> Message:
            nonlocal body
            message: Message = {"type": "http.request", "body": body or b"", "more_body": False}
            body = b""
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in state.get("rate_limit", {}).items():
                    out.setdefault(name, value)
                if allowed:
                    out["Access-Control-Allow-Origin"] = str(origin)
                    out["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                if self.cors_origins:
                    out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, replay, send_with_headers)

    async def _read_capped(self, headers: Headers, receive: Receive) -> bytes | None:
        """The whole body, or None when it is over the cap (declared or sent)."""
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, allowed: bool) -> None:
        response = problem_response(
            403, "Browsers on this origin may not call the API (api.cors_origins)."
        )
        if allowed:
            response = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": Headers(scope=scope)["origin"],
                    "Access-Control-Allow-Methods": ALLOWED_METHODS,
                    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
                    "Vary": "Origin",
                },
            )
        await response(scope, receive, send)
