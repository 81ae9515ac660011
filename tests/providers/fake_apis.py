"""Fake mail APIs: each takes the documented request, checks the credential in the API's
own header, and "delivers" what the real service would: one mail per recipient with the
per-recipient values substituted the way that service substitutes them."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import uuid
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr

from tests.providers.fake_http import Request, Response

TOKEN = "test-token-123"


@dataclass
class Delivered:
    to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    key: str | None  # the delivery key the service keeps (metadata, custom_args, …)
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def invalid(address: str) -> bool:
    return "@" not in address or address.startswith("invalid")


class FakePostmark:
    def __init__(self) -> None:
        self.delivered: list[Delivered] = []

    def handle(self, request: Request) -> Response:
        if request.headers.get("x-postmark-server-token") != TOKEN:
            return Response.json(401, {"ErrorCode": 10, "Message": "Bad or missing API token"})
        if request.method == "GET" and request.path == "/messages/outbound":
            key = request.query["metadata_delivery_key"][0]
            found = [d for d in self.delivered if d.key == key]
            return Response.json(
                200,
                {
                    "TotalCount": len(found),
                    "Messages": [
                        {"MessageID": d.message_id, "Metadata": {"delivery_key": d.key}}
                        for d in found
                    ],
                },
            )
        if request.path == "/email":
            answer = self._one(request.json())
            return Response.json(422 if answer["ErrorCode"] else 200, answer)
        messages = request.json()
        assert isinstance(messages, list)
        if len(messages) > 500:
            return Response.json(422, {"ErrorCode": 300, "Message": "more than 500 messages"})
        return Response.json(200, [self._one(message) for message in messages])

    def _one(self, message: dict) -> dict:
        (to,) = [address for _name, address in getaddresses([message["To"]])]
        if invalid(parseaddr(message["From"])[1]):
            return {"ErrorCode": 300, "Message": "Invalid 'From' address.", "To": to}
        if invalid(to):
            return {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{to}'.", "To": to}
        delivered = Delivered(
            to=to,
            subject=message["Subject"],
            html=message["HtmlBody"],
            text=message["TextBody"],
            headers={h["Name"]: h["Value"] for h in message["Headers"]},
            key=message["Metadata"]["delivery_key"],
        )
        assert message["MessageStream"] == "broadcast"
        self.delivered.append(delivered)
        return {"ErrorCode": 0, "Message": "OK", "MessageID": delivered.message_id, "To": to}


def substitute(text: str, pattern: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]  # a tag without a value fails loudly

    return re.sub(pattern, fill, text)


class FakeSendGrid:
    def __init__(self) -> None:
        self.delivered: list[Delivered] = []

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response.json(401, {"errors": [{"message": "authorization required"}]})
        body = request.json()
        assert isinstance(body, dict)
        errors = [
            {
                "field": f"personalizations.{i}.to.0.email",
                "message": "Does not contain a valid address.",
            }
            for i, p in enumerate(body["personalizations"])
            if invalid(p["to"][0]["email"])
        ]
        if errors:
            return Response.json(400, {"errors": errors})
        content = {part["type"]: part["value"] for part in body["content"]}
        for personalization in body["personalizations"]:
            assert len(personalization["to"]) == 1, "one recipient per personalization"
            values = personalization.get("substitutions", {})
            pattern = "(" + "|".join(re.escape(k) for k in values) + ")" if values else "(?!)"
            self.delivered.append(
                Delivered(
                    to=personalization["to"][0]["email"],
                    subject=body["subject"],
                    html=substitute(content["text/html"], pattern, values),
                    text=substitute(content["text/plain"], pattern, values),
                    headers=personalization.get("headers", {}),
                    key=personalization["custom_args"]["delivery_key"],
                )
            )
        return Response(202, headers={"X-Message-Id": "sg-" + uuid.uuid4().hex[:12]})


def form_fields(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    assert content_type.startswith("multipart/form-data"), content_type
    parsed: Message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body,
        policy=email.policy.HTTP,
    )
    fields = {}
    for part in parsed.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        fields[name] = part.get_payload(decode=True).decode()
    return fields


class FakeMailgun:
    def __init__(self, domain: str = "mg.example.org") -> None:
        self.domain = domain
        self.delivered: list[Delivered] = []
        self.page_size = 2

    def handle(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"api:{TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Response(401, b"Forbidden")
        if request.method == "GET" and request.path == f"/v3/{self.domain}/events":
            return self._events(request)
        assert request.path == f"/v3/{self.domain}/messages", request.path
        fields = form_fields(request)
        recipients = [address for _name, address in getaddresses([fields["to"]])]
        if any(invalid(address) for address in recipients):
            return Response.json(400, {"message": "to parameter is not a valid address."})
        variables = json.loads(fields["recipient-variables"])
        message_id = f"<{uuid.uuid4().hex}@{self.domain}>"
        for address in recipients:
            values = {f"%recipient.{k}%": v for k, v in variables[address].items()}
            pattern = "(%recipient\\.[^%]+%)"
            filled = {k: substitute(v, pattern, values) for k, v in fields.items()}
            self.delivered.append(
                Delivered(
                    to=address,
                    subject=filled["subject"],
                    html=filled["html"],
                    text=filled["text"],
                    headers={k[2:]: v for k, v in filled.items() if k.startswith("h:")},
                    key=filled["v:delivery_key"],
                    message_id=message_id,
                )
            )
        return Response.json(200, {"id": message_id, "message": "Queued. Thank you."})

    def _events(self, request: Request) -> Response:
        wanted = json.loads(request.query["user-variables"][0])
        matching = [d for d in self.delivered if d.key == wanted["delivery_key"]]
        page = int(request.query.get("page", ["0"])[0])
        items = matching[page * self.page_size : (page + 1) * self.page_size]
        query = f"user-variables={request.query['user-variables'][0]}&page={page + 1}"
        host = request.headers["host"]
        return Response.json(
            200,
            {
                "items": [
                    {
                        "event": "accepted",
                        "id": uuid.uuid4().hex,
                        "user-variables": {"delivery_key": d.key},
                        "message": {"headers": {"message-id": d.message_id}},
                    }
                    for d in items
                ],
                "paging": {"next": f"http://{host}/v3/{self.domain}/events?{query}"},
            },
        )


class FakeBrevo:
    def __init__(self) -> None:
        self.delivered: list[Delivered] = []
        self.keys: set[str] = set()

    def handle(self, request: Request) -> Response:
        if request.headers.get("api-key") != TOKEN:
            return Response.json(401, {"code": "unauthorized", "message": "Key not found"})
        assert request.path == "/v3/smtp/email", request.path
        body = request.json()
        assert isinstance(body, dict)
        key = body["headers"]["idempotencyKey"]
        uuid.UUID(key)  # Brevo wants a UUID
        if key in self.keys:
            return Response.json(
                400, {"code": "duplicate_parameter", "message": "duplicate request"}
            )
        versions = body.get("messageVersions") or [{"to": body["to"]}]
        if any(invalid(v["to"][0]["email"]) for v in versions):
            return Response.json(
                400, {"code": "invalid_parameter", "message": "email is not valid in to"}
            )
        self.keys.add(key)
        ids = []
        shared = {k: v for k, v in body["headers"].items() if k != "idempotencyKey"}
        for version in versions:
            assert len(version["to"]) == 1, "one recipient per version"
            values = {"{{params." + k + "}}": v for k, v in version.get("params", {}).items()}
            pattern = "(\\{\\{params\\.[a-z_]+\\}\\})"
            delivered = Delivered(
                to=version["to"][0]["email"],
                subject=body["subject"],
                html=substitute(body["htmlContent"], pattern, values),
                text=substitute(body["textContent"], pattern, values),
                headers={**shared, **version.get("headers", {})},
                key=None,
            )
            self.delivered.append(delivered)
            ids.append(f"<{delivered.message_id}@smtp-relay.mailin.fr>")
        if "messageVersions" in body:
            return Response.json(201, {"messageIds": ids})
        return Response.json(201, {"messageId": ids[0]})


class FakeSes:
    def __init__(self, region: str = "eu-central-1") -> None:
        self.region = region
        self.delivered: list[Delivered] = []

    def handle(self, request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        scope = f"/{self.region}/ses/aws4_request"
        if not (
            authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
            and scope in authorization
        ):
            return Response.json(
                403,
                {"message": "The security token included in the request is invalid."},
                {"x-amzn-ErrorType": "UnrecognizedClientException"},
            )
        assert "x-amz-date" in request.headers
        body = request.json()
        assert isinstance(body, dict)
        (to,) = body["Destination"]["ToAddresses"]
        address = parseaddr(to)[1]
        if invalid(address):
            return Response.json(
                400,
                {"message": f"Illegal address: {address}"},
                {"x-amzn-ErrorType": "BadRequestException"},
            )
        simple = body["Content"]["Simple"]
        delivered = Delivered(
            to=address,
            subject=simple["Subject"]["Data"],
            html=simple["Body"]["Html"]["Data"],
            text=simple["Body"]["Text"]["Data"],
            headers={h["Name"]: h["Value"] for h in simple["Headers"]},
            key=body["EmailTags"][0]["Value"],
        )
        self.delivered.append(delivered)
        return Response.json(200, {"MessageId": delivered.message_id})
