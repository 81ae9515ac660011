"""`GET /media/{name}`: the content folder's pictures (`content/media/`), which items name
as `image: media/name.jpg` and mails show from `{site.base_url}/media/name.jpg`.

Only a file directly in that folder, named as front matter may name it, is served; any
other name (a path, a dot file, another type) is the same 404 as a missing file.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from pipeline.config import MEDIA_DIR
from pipeline.render.i18n import translations
from pipeline.web.context import context_of
from pipeline.web.pages import message_page, page_locale

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.(jpe?g|png|gif|webp)")
TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}
TYPES |= {"gif": "image/gif", "webp": "image/webp"}
HEADERS = {
    "Cache-Control": "public, max-age=86400",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


async def picture(request: Request) -> Response:
    name = request.path_params["name"]
    found = _NAME.fullmatch(name)
    path = context_of(request).config.sources.content_dir / MEDIA_DIR / name
    if found is None or not path.is_file():
        locale = page_locale(request)
        gettext = translations(locale).gettext
        return message_page(
            request,
            locale,
            gettext("Picture not found"),
            gettext("There is no picture of this name."),
            status_code=404,
        )
    return FileResponse(path, media_type=TYPES[found.group(1).lower()], headers=HEADERS)


routes = [Route("/media/{name}", picture, methods=["GET", "HEAD"])]
