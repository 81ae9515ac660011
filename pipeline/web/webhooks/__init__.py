"""`POST /webhooks/{provider}`: bounces and complaints from the mail services.

One module per provider's format (as listmonk keeps one file per bounce webhook), each
with `read(request, settings) -> list[BounceEvent]` that verifies the request first.
A request that fails verification gets 401 and changes nothing.
"""

from __future__ import annotations

from types import ModuleType

from pipeline.web.webhooks import brevo, mailgun, postmark, sendgrid, ses

PROVIDERS: dict[str, ModuleType] = {
    "postmark": postmark,
    "sendgrid": sendgrid,
    "mailgun": mailgun,
    "brevo": brevo,
    "ses": ses,
}
