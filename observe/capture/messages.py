"""HTTP/1.x messages as read off the wire, before they become `Exchange` values.

A `Message` is filled in by `http1.MessageReader` as httptools reports its parts, then paired
by `connection.Connection` and turned into a `Request`/`Response` by `building`. It also keeps
the TCP facts pairing needs after a gap: where it started, the ACK it was sent with, the ACK of
the message before it on the same stream.

Invariants:
1. Raw bytes are kept as they came (header names and values, target, reason); text is made
   only when building the Exchange.
2. Rarely changed fields are class-level defaults, so a new message sets only a few slots.
"""

from __future__ import annotations

import re

_METHODS = (
    rb"GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|CONNECT|TRACE|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE"
    rb"|LOCK|UNLOCK|REPORT|SEARCH|PURGE|MKCALENDAR|LINK|UNLINK"
)
REQUEST_LINE = re.compile(rb"(?:" + _METHODS + rb") [!-~]+ HTTP/1\.[01]\r?\n")
STATUS_LINE = re.compile(rb"HTTP/1\.[01] [1-5][0-9][0-9][ \r\n]")


class Message:
    """One request or response being read; mutable until `done`.

    Rarely changed fields are class-level defaults, so a new message sets only a few slots.
    """

    end_seq: int | None = None  # sequence number just after the chunk that ended it
    method = ""
    target = b""
    status = 0
    reason = b""
    version = "HTTP/1.1"
    trailers: list[tuple[bytes, bytes]] | tuple[()] = ()
    head_done = False
    eof_delimited = False
    no_body = False
    done = False
    incomplete: str | None = None
    skip = False  # a response the listener decided to drop
    partner: Message | None = None  # a request's response, a response's request
    no_response: str | None = None  # why a request has no response
    previous_ack: int | None = None  # the ACK of the previous message read on this stream
    content_length = -1  # the Content-Length of a body that has one (not chunked)
    after_loss = False  # bytes before this message were lost or skipped

    def __init__(self, is_request: bool, ts: float, seq: int, ack: int | None) -> None:
        self.is_request = is_request
        self.start_ts = self.end_ts = ts
        self.start_seq = seq
        self.ack = ack
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.body_size = 0

    def header(self, name: bytes) -> bytes | None:
        """The first value of header `name` (lower-case bytes), or None."""
        size = len(name)
        for field, value in self.headers:
            if len(field) == size and field.lower() == name:
                return value
        return None

    @property
    def kind(self) -> str:
        return "request" if self.is_request else "response"


def note_framing(message: Message) -> None:
    """Set `content_length` and, for a response, `eof_delimited` from the headers, in one pass.

    A response body runs to the end of the connection when it has neither Content-Length nor
    chunked Transfer-Encoding and its status allows a body (RFC 9112 §6.3 rule 8).
    """
    has_length = chunked = False
    length = -1
    for name, value in message.headers:
        size = len(name)
        if size == 14 and name.lower() == b"content-length":
            has_length = True
            if length < 0 and value.strip().isdigit():
                length = int(value)
        elif size == 17 and name.lower() == b"transfer-encoding":
            chunked = value.lower().rstrip().endswith(b"chunked")
    if length >= 0 and not chunked:
        message.content_length = length
    if not message.is_request:
        status = message.status
        message.eof_delimited = (
            status >= 200 and status not in (204, 304) and not has_length and not chunked
        )
