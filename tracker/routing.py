"""URL converters and query numbers. Ids beyond the id column's range are simply not found (404), and
page numbers are bounded: never a database error."""

from flask import current_app, has_request_context, request, url_for
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
MAX_PAGE = 100_000  # any page offset then fits a BIGINT


class IdConverter(IntegerConverter):
    """The ``int`` converter for ids: a number beyond an INTEGER column becomes 0, found nowhere, so
    the view answers its own 404 (JSON under the API) instead of the query failing or no route matching."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def parse_id(value) -> int | None:
    """A submitted id: None when empty, 0 (found nowhere) when not a usable id."""
    if value in (None, "", "None"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= MAX_ID else 0


def page_number(args) -> int:
    """The ``page`` query parameter: 1 when missing or unusable, at most MAX_PAGE."""
    return min(max(args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def base_url() -> str:
    """The site's address for links that leave the page (feeds, emails, chat): TRACKER_BASE_URL.

    Never the request's Host header, which the client chooses.
    """
    return current_app.config["BASE_URL"].rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL on ``base_url()``."""
    path = url_for(endpoint, **values, _external=False)
    return base_url() + path.removeprefix(request.script_root if has_request_context() else "")
