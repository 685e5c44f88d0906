"""The HTTP/1.1 protocol ``talentgraph serve`` runs: uvicorn's httptools protocol (llhttp, in C), with the
request head bounded and refused in the API's error shape.

uvicorn parses HTTP with httptools when it is installed and with h11 (pure Python) otherwise. h11 refuses a
request head past a size; uvicorn's httptools protocol collects a request's URL and headers however long
they grow (a client streaming an endless URL would have the process hold all of it, and copy it again on
every packet), and a URL past 65,535 bytes then fails ``httptools.parse_url`` (its offsets are 16-bit) with
a plain-text 400. This protocol counts each request head's bytes as they arrive and refuses, before the
application or the parser's buffers see more of it, a URL past ``MAX_URL`` (414) and a head past
``max_head`` (431), in the error shape every other refusal has, closing the connection. Up to those sizes a
head may arrive in any number of pieces (a long staff-page URL: the browser test sends one in two).

Against h11, on the bench's search over HTTP at 200k residents (two servers on copies of one data dir,
700 requests each, rounds alternating): p50 / p95 7.51 / 11.79 → 7.25 / 11.35 ms with this protocol (7.47 /
11.18 → 7.20 / 10.62 with uvicorn's own httptools protocol, in an earlier pair of runs).
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from talentgraph.api.view import error_body

HEAD_END = b"\r\n\r\n"
MAX_URL = 65_535
REASONS = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}
HINT = "Send long GraphQL queries and variables in a POST body, and search with fewer words."


class BoundedHead(HttpToolsProtocol):
    """``HttpToolsProtocol`` refusing a URL longer than ``MAX_URL`` and a request line and headers longer
    than ``max_head`` bytes. Once it has refused, the parser's callbacks for the rest of the request do
    nothing: no request cycle is started for it, and the connection is closing."""

    max_head = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # from a request's first byte until its head is complete
        self._head = 0
        self._tail = b""  # the last bytes of the head so far: its end may straddle two packets
        self._url = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:  # what was in flight when the connection was refused
            return
        if self._reading_head:
            seen = self._tail + data
            end = seen.find(HEAD_END)
            self._head += len(data) if end < 0 else max(end + len(HEAD_END) - len(self._tail), 0)
            if self._head > self.max_head:
                self._refuse(431, f"The request line and headers are larger than {self.max_head:,} bytes.")
                return
            self._tail = seen[-(len(HEAD_END) - 1):]
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url = 0

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._url += len(url)
        if self._url > MAX_URL:
            self._refuse(414, f"The request URL is longer than {MAX_URL:,} bytes.")
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._reading_head = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._reading_head, self._head, self._tail = True, 0, b""  # a kept-alive connection's next request

    def _refuse(self, status: int, message: str) -> None:
        self._refused = True
        self.logger.warning("Refused a request: %s", message)
        if self.cycle is not None and not self.cycle.response_complete:
            # An earlier request's response is still being written on this connection: no second one across it.
            self.transport.close()
            return
        body = json.dumps(error_body(message, "REQUEST_TOO_LARGE", HINT)).encode()
        self.transport.write(b"".join([
            b"HTTP/1.1 ", str(status).encode(), b" ", REASONS[status], b"\r\n",
            b"content-type: application/json\r\n",
            b"content-length: ", str(len(body)).encode(), b"\r\n",
            b"connection: close\r\n\r\n", body]))
        self.transport.close()


def http_protocol(max_head: int) -> type[HttpToolsProtocol]:
    """The protocol class for ``uvicorn.run(http=...)``, refusing heads over ``max_head`` bytes."""
    return type("BoundedHead", (BoundedHead,), {"max_head": max_head})


__all__ = ["MAX_URL", "BoundedHead", "http_protocol"]
