"""Datasette plugin for `ivcdb serve`: bounds on what one request can make the server produce.

Every SQLite connection refuses a string or blob above `VALUE_BYTES` (so `randomblob(3e8)` is
an error, not 300 MB in memory), and a response body above `RESPONSE_BYTES` is replaced by a
413 error (or, once streaming has begun, cut off). Rows per page (`max_returned_rows`) and time
per query (`sql_time_limit_ms`) are Datasette settings passed by `ivcdb.serve`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from datasette import hookimpl

VALUE_BYTES = 1_000_000
RESPONSE_BYTES = 20_000_000
TOO_LARGE = (b"This response would be larger than the web UI allows "
             b"(%d MB); ask for fewer rows or columns." % (RESPONSE_BYTES // 1_000_000))

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


@hookimpl  # type: ignore[untyped-decorator]
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_BYTES)


@hookimpl  # type: ignore[untyped-decorator]
def asgi_wrapper() -> Callable[[Any], Any]:
    def wrap(app: Any) -> Any:
        async def capped(scope: Message, receive: Any, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            await app(scope, receive, _CappedSend(send))

        return capped

    return wrap


class _CappedSend:
    """Holds the response start until the first body part: a whole body over the cap becomes
    a 413; a streamed body is cut off at the cap."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.sent = 0
        self.cut = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.cut:
            if not self.cut:
                await self.send(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.start is not None:
            start, self.start = self.start, None
            if not more and len(body) > RESPONSE_BYTES:
                self.cut = True
                await self.send({"type": "http.response.start", "status": 413,
                                 "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await self.send({"type": "http.response.body", "body": TOO_LARGE})
                return
            await self.send(start)
        self.sent += len(body)
        if self.sent > RESPONSE_BYTES:
            self.cut = True
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await self.send(message)
