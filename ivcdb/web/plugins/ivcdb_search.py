"""Datasette plugin for `ivcdb serve`: the search box reads what `query claims --text` reads.

A `_search` parameter is parsed by `ivcdb.search` (words, `recur*` prefixes, quoted phrases;
accents and case folded) and handed to Datasette as the same FTS5 query the command line
runs (`_searchmode=raw`), so the web UI and the CLI find the same claims. A search that is
not one (an unbalanced quote, a bare `*`) gets a 400 page saying why, not an FTS5 error.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from ivcdb.errors import UsageError
from ivcdb.search import parse

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


def rewrite(query_string: str) -> str:
    """The query string with `_search` as ivcdb's FTS5 query (raw mode); `UsageError` when
    the search is not one."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if not any(k == "_search" and v.strip() for k, v in pairs):
        return query_string
    out = [(k, v) for k, v in pairs if k != "_searchmode"]
    out = [(k, parse(v).fts5() if k == "_search" and v.strip() else v) for k, v in out]
    return urlencode([*out, ("_searchmode", "raw")])


@hookimpl  # type: ignore[untyped-decorator]
def asgi_wrapper() -> Callable[[Any], Any]:
    def wrap(app: Any) -> Any:
        async def searched(scope: Message, receive: Any, send: Send) -> None:
            if scope["type"] == "http" and b"_search" in scope.get("query_string", b""):
                try:
                    text = rewrite(scope["query_string"].decode("utf-8", "replace"))
                except UsageError as error:
                    await _bad_search(send, str(error))
                    return
                scope = {**scope, "query_string": text.encode("utf-8")}
            await app(scope, receive, send)

        return searched

    return wrap


async def _bad_search(send: Send, message: str) -> None:
    body = (f"<!DOCTYPE html><title>Search</title><p>{html.escape(message)}</p>"
            '<p><a href="javascript:history.back()">Back</a></p>').encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"text/html; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body})
