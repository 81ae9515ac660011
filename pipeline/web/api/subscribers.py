"""`/api/v1/subscribers`: sign up (always double opt-in), look up, update, unsubscribe,
erase and list.

A `subscribers:signup` token sits in a public web page, so its sign-up answer is the
same whatever the address's state, and it meets the form's flood defences: the sign-up
limit per client network and the mail limit per address. A `subscribers:write` token may
see the record the sign-up waits on.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Security
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from pipeline.collect.front_matter import PlainLine
from pipeline.render.i18n import translations
from pipeline.send import reader_changes
from pipeline.sign_up import stats_asked
from pipeline.web.api.auth import Caller, required
from pipeline.web.api.cursor import CursorParameter, Limit, Page, after_id, next_cursor
from pipeline.web.api.idempotency import Once, once_per_key
from pipeline.web.api.json import Json
from pipeline.web.api.problems import ApiProblem, field_problem
from pipeline.web.api.topics import TopicFilter, TopicKey, known_topics
from pipeline.web.confirmation import ConfirmationMail
from pipeline.web.context import client_address, client_network
from pipeline.web.subscribe import send_later, start
from subscribers import gdpr, sign_ups, store
from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.schema import subscribers

router = APIRouter(tags=["subscribers"])
READ = ["subscribers:read", "subscribers:write"]
WRITE = ["subscribers:write"]
Locale = Literal["de", "en"]
State = Literal["pending", "active", "unsubscribed", "bounced", "complained"]
SubscriberId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class SignUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is named, not ignored
    email: str = Field(
        max_length=320, description="The address to confirm.", json_schema_extra={"format": "email"}
    )
    name: PlainLine | None = Field(None, max_length=200, description="Kept once confirmed.")
    locale: Locale | None = Field(None, description="The issues' language; default the site's.")
    topics: list[TopicKey] | None = Field(
        None, max_length=50, description="Keys of config.yaml's `topics`; none: every issue."
    )
    consent: Literal[True] = Field(description="The reader agreed to the newsletter.")
    stats_consent: bool = Field(
        False, description="Personalised statistics, only where the newsletter asks for it."
    )


class SignUpAnswer(BaseModel):
    detail: str = Field(description="What happens next, for the person signing up.")
    id: int | None = Field(None, description="The subscriber (subscribers:write tokens only).")
    state: State | None = Field(None, description="Their state (subscribers:write tokens only).")


class SubscriberOut(BaseModel):
    id: int
    email: str
    name: str
    state: State
    locale: str
    topics: list[str] = Field(description="Empty: every issue.")
    created_at: datetime
    confirmed_at: datetime | None = Field(description="When the opt-in was confirmed.")
    stats_consent_at: datetime | None = Field(
        description="When personalised statistics were agreed to; null: not agreed."
    )


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topics: list[TopicKey] | None = Field(None, max_length=50)
    locale: Locale | None = None


def _address(email: str, location: str = "body") -> str:
    try:
        return normalise_address(email)
    except InvalidAddress:
        raise field_problem("email", "not a valid email address", location) from None


def _sign_up_of(caller: Caller, request: Request, body: SignUpRequest) -> sign_ups.SignUp:
    config = caller.context.config
    if body.stats_consent and not stats_asked(config):
        raise field_problem("stats_consent", "this newsletter keeps no personalised statistics")
    stats = config.analytics.consent_text_version if body.stats_consent else None
    return sign_ups.SignUp(
        name=(body.name or "").strip(),
        locale=body.locale or config.site.locale,
        topics=known_topics(caller.context.config, body.topics) or (),
        text_version=config.subscriptions.consent_text_version,
        ip=client_address(request),
        at=caller.context.clock(),
        stats_text_version=stats,
        source=f"api:{caller.token.name}",
    )


@router.post(
    "/subscribers",
    operation_id="create_subscriber",
    summary="Sign up an address (a confirmation mail is sent)",
    status_code=202,
    response_model=SignUpAnswer,
    responses={
        202: {
            "description": "The sign-up waits for its confirmation; the same answer for "
            "every address with a subscribers:signup token.",
            "links": {
                "GetSubscriber": {
                    "operationId": "get_subscriber",
                    "parameters": {"subscriber_id": "$response.body#/id"},
                }
            },
        }
    },
)
def create_subscriber(
    request: Request,
    body: SignUpRequest,
    caller: Annotated[
        Caller, Security(required, scopes=["subscribers:write", "subscribers:signup"])
    ],
    once: Annotated[Once, Depends(once_per_key)],
) -> Response:
    """Always a double opt-in: the API never confirms on a caller's word."""
    return once.answer(caller, partial(_sign_up, request, body, caller))


def _sign_up(request: Request, body: SignUpRequest, caller: Caller) -> Response:
    context = caller.context
    email = _address(body.email)
    sign_up = _sign_up_of(caller, request, body)
    writer = "subscribers:write" in caller.token.scopes
    if not writer:
        wait = context.limiter.take("sign_up", client_network(request))
        if wait is not None:
            raise ApiProblem(
                429,
                "Too many sign-ups came from this network; try again later.",
                headers={"Retry-After": str(wait)},
            )
    started = start(context, email, sign_up)
    if started.confirm_url is not None:
        mail = ConfirmationMail(email, sign_up.locale, started.confirm_url)
        context.mails.submit(partial(send_later, context, mail))
    detail = _accepted(sign_up.locale)
    answer = SignUpAnswer(detail=detail)
    headers = {}
    if writer and started.subscriber is not None:
        answer = SignUpAnswer(
            detail=detail, id=started.subscriber.id, state=_state(started.subscriber.state)
        )
        headers["Location"] = f"{request.url.path}/{started.subscriber.id}"
    return Json(answer.model_dump(mode="json"), status_code=202, headers=headers)


def _accepted(locale: str) -> str:
    """The answer's `detail`, in the reader's language: a sign-up box shows it as it is."""
    return translations(locale).gettext(
        "If the address can receive the newsletter, a mail with a confirmation link is on "
        "its way; the subscription starts once its button is pressed."
    )


def _state(state: str) -> State:
    assert state in ("pending", "active", "unsubscribed", "bounced", "complained")
    return state  # type: ignore[return-value]


def _out(row: sa.Row[tuple[object, ...]]) -> SubscriberOut:
    record = row._mapping
    return SubscriberOut(
        id=record["id"],
        email=record["email"],
        name=record["name"],
        state=_state(record["state"]),
        locale=record["locale"],
        topics=list(record["topics"] or ()),
        created_at=record["created_at"],
        confirmed_at=record["consent_at"],
        stats_consent_at=record["stats_consent_at"],
    )


def _read(connection: sa.Connection, where: sa.ColumnElement[bool]) -> SubscriberOut:
    row = connection.execute(sa.select(subscribers).where(where)).first()
    if row is None:
        raise ApiProblem(404, "No subscriber is known by that.")
    return _out(row)


@router.get(
    "/subscribers/lookup",
    operation_id="lookup_subscriber",
    summary="Find a subscriber by address",
    response_model=SubscriberOut,
)
def lookup_subscriber(
    email: Annotated[str, Query(max_length=320, description="The address, in any spelling.")],
    caller: Annotated[Caller, Security(required, scopes=READ)],
) -> SubscriberOut:
    address = _address(email, "query")
    with caller.context.engine.connect() as connection:
        return _read(connection, subscribers.c.email == address)


@router.get(
    "/subscribers/{subscriber_id}",
    operation_id="get_subscriber",
    summary="One subscriber",
    response_model=SubscriberOut,
)
def get_subscriber(
    subscriber_id: SubscriberId, caller: Annotated[Caller, Security(required, scopes=READ)]
) -> SubscriberOut:
    with caller.context.engine.connect() as connection:
        return _read(connection, subscribers.c.id == subscriber_id)


@router.patch(
    "/subscribers/{subscriber_id}",
    operation_id="update_subscriber",
    summary="Change a subscriber's topics or language",
    response_model=SubscriberOut,
)
def update_subscriber(
    subscriber_id: SubscriberId,
    body: Preferences,
    caller: Annotated[Caller, Security(required, scopes=WRITE)],
) -> SubscriberOut:
    topics = known_topics(caller.context.config, body.topics)
    with caller.context.engine.begin() as connection:
        now = _read(connection, subscribers.c.id == subscriber_id)
        store.set_preferences(
            connection,
            subscriber_id,
            topics=now.topics if topics is None else topics,
            locale=body.locale or now.locale,
        )
        return _read(connection, subscribers.c.id == subscriber_id)


@router.post(
    "/subscribers/{subscriber_id}/unsubscribe",
    operation_id="unsubscribe_subscriber",
    summary="Unsubscribe (kept in the store, mailed no more)",
    response_model=SubscriberOut,
)
def unsubscribe_subscriber(
    subscriber_id: SubscriberId,
    caller: Annotated[Caller, Security(required, scopes=WRITE)],
    once: Annotated[Once, Depends(once_per_key)],
) -> Response:
    return once.answer(caller, partial(_unsubscribe, subscriber_id, caller))


def _unsubscribe(subscriber_id: int, caller: Caller) -> Response:
    with caller.context.engine.begin() as connection:
        _read(connection, subscribers.c.id == subscriber_id)
        cause = reader_changes.API + caller.token.name
        reader_changes.unsubscribe(connection, subscriber_id, cause)
        answer = _read(connection, subscribers.c.id == subscriber_id)
    return Json(answer.model_dump(mode="json"))


@router.delete(
    "/subscribers/{subscriber_id}",
    operation_id="erase_subscriber",
    summary="Erase everything held on a subscriber (GDPR)",
    status_code=204,
    response_class=Response,
)
def erase_subscriber(
    subscriber_id: SubscriberId, caller: Annotated[Caller, Security(required, scopes=WRITE)]
) -> Response:
    """As `newsletter subscribers erase`: only a salted hash stays, blocking a re-import."""
    with caller.context.engine.begin() as connection:
        found = _read(connection, subscribers.c.id == subscriber_id)
        gdpr.erase(connection, found.email)
    return Response(status_code=204)


@router.get(
    "/subscribers",
    operation_id="list_subscribers",
    summary="Subscribers, filtered, a page at a time",
    response_model=Page[SubscriberOut],
)
def list_subscribers(
    caller: Annotated[Caller, Security(required, scopes=READ)],
    status: Annotated[State | None, Query(description="Only subscribers in this state.")] = None,
    topic: TopicFilter = None,
    locale: Annotated[Locale | None, Query(description="Only readers of this language.")] = None,
    limit: Limit = 50,
    cursor: CursorParameter = None,
) -> Page[SubscriberOut]:
    query = sa.select(subscribers).where(subscribers.c.id > after_id(cursor))
    if status is not None:
        query = query.where(subscribers.c.state == status)
    if topic is not None:
        # Topics are stored as a JSON list: its text names each key in quotes.
        text = sa.cast(subscribers.c.topics, sa.Text)
        query = query.where(text.contains(f'"{topic}"', autoescape=True))
    if locale is not None:
        query = query.where(subscribers.c.locale == locale)
    with caller.context.engine.connect() as connection:
        rows = connection.execute(query.order_by(subscribers.c.id).limit(limit + 1)).all()
    found = [_out(row) for row in rows[:limit]]
    return Page(data=found, next_cursor=next_cursor([row._mapping["id"] for row in rows], limit))
