"""Signing in to the desk without a password: a magic link mailed to a listed editor.

The link is signed, carries its time of issue and a nonce, and works once: the nonce is
recorded when the link is used. Opening the link shows a button; only pressing it signs in,
so a mail scanner that follows links cannot use up the link, and starts a session on the
server (`sessions`). The answer to a request is the same, in content and in time, whether
or not the address is an editor's: the request only queues a job, and the mail thread
decides whether to send (`mail_queue`). Requests are limited per network, and the links one
address is sent per window, whoever asks, so nobody floods an inbox (`rate_limits`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.config import Config
from pipeline.db import desk_used_links
from pipeline.errors import PermanentProviderError
from pipeline.render.i18n import translations
from pipeline.send.link_mail import link_mail
from pipeline.send.message import OutgoingMessage
from pipeline.send.providers import make_provider
from pipeline.tokens import InvalidToken, SecretKeys, check_form_token, make_form_token
from pipeline.web.context import WebContext, client_network, context_of
from pipeline.web.desk.pages import (
    DESK,
    FORM_MAX_AGE,
    SESSION_COOKIE,
    action,
    current_session,
    is_editor,
    listed_editor,
    message,
    render,
)
from pipeline.web.desk.sessions import SESSION_MAX_AGE, end_session, start_session
from pipeline.web.pages import page_locale
from subscribers.addresses import InvalidAddress, normalise_address

log = logging.getLogger(__name__)
SIGN_IN = f"{DESK}/sign-in"
LINK_MAX_AGE = timedelta(minutes=15)


class LinkRefused(ValueError):
    pass


def _links(secret_key: SecretKeys) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="newsletter.desk-sign-in")


def make_sign_in_token(secret_key: SecretKeys, address: str, at: datetime) -> str:
    payload = {"a": address, "n": secrets.token_hex(16), "t": int(at.timestamp())}
    return str(_links(secret_key).dumps(payload))


@dataclass(frozen=True)
class SignInLink:
    address: str
    nonce: str


def read_sign_in_token(context: WebContext, token: str) -> SignInLink:
    """The link's editor, or LinkRefused when it is forged, expired or not an editor's."""
    try:
        payload = _links(context.secret_key).loads(token)
    except BadSignature as exc:
        raise LinkRefused("not valid") from exc
    if not isinstance(payload, dict) or not {"a", "n", "t"} <= payload.keys():
        raise LinkRefused("not valid")
    issued = datetime.fromtimestamp(int(payload["t"]), UTC)
    if context.clock() - issued > LINK_MAX_AGE:
        raise LinkRefused("expired")
    if not is_editor(context.config, str(payload["a"])):
        raise LinkRefused("not an editor")
    return SignInLink(str(payload["a"]), str(payload["n"]))


def _used(connection: sa.Connection, link: SignInLink) -> bool:
    query = sa.select(desk_used_links.c.nonce).where(desk_used_links.c.nonce == link.nonce)
    return connection.execute(query).first() is not None


def link_used(engine: sa.Engine, link: SignInLink) -> bool:
    with engine.connect() as connection:
        return _used(connection, link)


def use_link(engine: sa.Engine, link: SignInLink, at: datetime) -> bool:
    """Record the link as used; False when it had been used already.

    Two presses at once: the nonce is the primary key, so the second insert fails.
    """
    try:
        with engine.begin() as connection:
            if _used(connection, link):
                return False
            connection.execute(sa.insert(desk_used_links).values(nonce=link.nonce, used_at=at))
            # A link used longer ago than a link lives has expired anyway: forget its nonce.
            connection.execute(
                sa.delete(desk_used_links).where(desk_used_links.c.used_at < at - LINK_MAX_AGE)
            )
    except sa.exc.IntegrityError:
        return False
    return True


async def sign_in_form(request: Request) -> Response:
    return _form(request)


def _form(request: Request, error: str = "", address: str = "") -> Response:
    values: dict[str, object] = {
        "form_token": make_form_token(context_of(request).secret_key, SIGN_IN),
        "error": error,
        "address": address,
    }
    return render(
        request, "sign_in.html.j2", values, editor=None, status_code=400 if error else 200
    )


async def request_link(request: Request) -> Response:
    context = context_of(request)
    gettext = translations(page_locale(request)).gettext
    form = await request.form()
    try:
        check_form_token(context.secret_key, str(form.get("csrf", "")), SIGN_IN, FORM_MAX_AGE)
    except InvalidToken:
        return _form(request, gettext("The form has expired. Please send it again."))
    wait = await context.limiter.refused("desk_sign_in", client_network(request))
    if wait is not None:
        refused = message(
            request,
            gettext("Too many sign-in requests"),
            gettext("Too many sign-in links were asked for from your network. Please wait."),
            status_code=429,
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    raw = str(form.get("email", ""))
    try:
        address = normalise_address(raw)
    except InvalidAddress:
        return _form(request, gettext("Please enter a valid email address."), raw)
    # Whether the address is an editor's is decided on the mail thread, not here.
    context.mails.submit(partial(mail_link_if_editor, context, address, page_locale(request)))
    return RedirectResponse(f"{SIGN_IN}/sent?lang={page_locale(request)}", status_code=303)


async def link_sent(request: Request) -> Response:
    gettext = translations(page_locale(request)).gettext
    text = gettext(
        "If the address belongs to an editor, a mail with a sign-in link is on its way. "
        "The link works once, for 15 minutes."
    )
    if context_of(request).local_url is not None:
        text += " " + gettext(
            "This is a development site: the mail is written to the outbox folder, and the "
            "terminal running `newsletter serve` shows the link for this address."
        )
    return message(request, gettext("Please check your inbox"), text)


def _refused(request: Request) -> Response:
    gettext = translations(page_locale(request)).gettext
    return message(
        request,
        gettext("This sign-in link cannot be used"),
        gettext(
            "Sign-in links work once and for 15 minutes. Please ask for a new link on the "
            "sign-in page."
        ),
        status_code=400,
    )


async def open_link(request: Request) -> Response:
    """The page a mailed link opens: a button that signs in (scanners do not press it)."""
    token = request.path_params["token"]
    context = context_of(request)
    try:
        link = read_sign_in_token(context, token)
    except LinkRefused:
        return _refused(request)
    if await run_in_threadpool(link_used, context.engine, link):
        return _refused(request)
    path = f"{SIGN_IN}/{token}"
    values: dict[str, object] = {
        "form_token": make_form_token(context.secret_key, path),
        "action_path": path,
    }
    return render(request, "confirm_sign_in.html.j2", values, editor=None)


async def use_sign_in_link(request: Request) -> Response:
    context = context_of(request)
    token = request.path_params["token"]
    form = await request.form()
    try:
        check_form_token(
            context.secret_key, str(form.get("csrf", "")), f"{SIGN_IN}/{token}", FORM_MAX_AGE
        )
        link = read_sign_in_token(context, token)
    except (InvalidToken, LinkRefused):
        return _refused(request)
    if not await run_in_threadpool(use_link, context.engine, link, context.clock()):
        return _refused(request)
    cookie = await run_in_threadpool(
        start_session,
        context.engine,
        context.secret_key,
        link.address,
        request.headers.get("user-agent", ""),
        context.clock(),
    )
    answer = RedirectResponse(f"{DESK}?lang={page_locale(request)}", status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_MAX_AGE.total_seconds()),
        path=DESK,
        secure=context.config.site.url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return answer


@action
async def sign_out(request: Request, editor: str, form: FormData) -> Response:
    await run_in_threadpool(
        end_session, context_of(request).engine, current_session(request).id_hash
    )
    answer = RedirectResponse(f"{SIGN_IN}?lang={page_locale(request)}", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path=DESK)
    return answer


def sign_in_mail(config: Config, address: str, url: str, locale: str) -> OutgoingMessage:
    gettext = translations(locale).gettext
    site = config.site
    subject = gettext("Your sign-in link for the editors' desk of %(name)s") % {"name": site.name}
    text = gettext(
        "Here is your link to sign in to the editors' desk. It works once, for 15 minutes:"
    )
    ignore = gettext("If you did not ask for it, you can ignore this mail.")
    return link_mail(
        site,
        to=address,
        kind="desk",
        locale=locale,
        subject=subject,
        before=[text],
        url=url,
        after=[ignore],
    )


async def mail_link_if_editor(context: WebContext, address: str, locale: str) -> None:
    """Mail a sign-in link if the address is an editor's and has not had its share.

    Runs on the mail thread, so the database and the mail service may take their time.
    """
    # The link goes to the address as `editors:` lists it, never as typed.
    editor = listed_editor(context.config, address)
    if editor is None or context.limiter.take("mails_to_address", address) is not None:
        log.info("no desk sign-in link sent: not an editor's address, or it had its share")
        return
    token = make_sign_in_token(context.secret_key, editor, context.clock())
    url = f"{context.config.site.url}{SIGN_IN}/{token}"
    provider = make_provider(context.config)
    try:
        results = await provider.send_batch([sign_in_mail(context.config, editor, url, locale)])
        if results and results[0].error:
            raise PermanentProviderError(f"the sign-in mail was refused: {results[0].error}")
        if context.local_url is not None and results:
            # A development site only: the link is in the outbox file beside it anyway, and
            # the mail's own link names site.base_url, which a demo does not serve.
            log.warning(
                "development site: the sign-in mail is %s; open %s%s/%s to sign in",
                results[0].provider_message_id,
                context.local_url,
                SIGN_IN,
                token,
            )
    except Exception:
        # The answer has gone out already; the log keeps the failure (not the address).
        log.exception("the desk sign-in mail could not be sent")
    finally:
        await provider.close()


routes = [
    Route(SIGN_IN, sign_in_form, methods=["GET"]),
    Route(SIGN_IN, request_link, methods=["POST"]),
    Route(f"{SIGN_IN}/sent", link_sent, methods=["GET"]),
    Route(f"{SIGN_IN}/{{token}}", open_link, methods=["GET"]),
    Route(f"{SIGN_IN}/{{token}}", use_sign_in_link, methods=["POST"]),
    Route(f"{DESK}/sign-out", sign_out, methods=["POST"]),
]
