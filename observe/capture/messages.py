"""HTTP/1.x messages as read off the wire, before they become `Exchange` values.

A `Message` is filled in by `http1.MessageReader` as httptools reports its parts, then paired
by `connection.Connection` and turned into a `Request`/`Response` by `building`. It also keeps
the TCP facts pairing needs after a gap: where it started, the ACK it was sent with, the ACK of
the message before it on the same stream.

Invariants:
1. The target and reason are kept as raw bytes (text is made when building the Exchange);
   header fields become text as they arrive (names Latin-1, values UTF-8 else Latin-1: never
   lossy), the fields framing needs being noted from their raw bytes first (3).
2. Rarely changed fields are class-level defaults, so a new message sets only a few slots.
3. What framing and building need from the header block (Content-Length, Transfer-Encoding,
   the first Host and Content-Encoding) is noted as each header arrives (`note_header`, for
   the names of those lengths only), so no one searches the header list afterwards.
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
    trailers: list[tuple[str, str]] | tuple[()] = ()
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
    # noted from the header block by `note_header`
    host: bytes | None = None  # the first Host value
    coding: bytes | None = None  # the first Content-Encoding value
    declared_length = -1  # the first Content-Length value that is a number
    has_length = False  # a Content-Length header, valid or not
    has_transfer_encoding = False
    chunked = False  # the last Transfer-Encoding value ends with "chunked"

    def __init__(self, is_request: bool, ts: float, seq: int, ack: int | None) -> None:
        self.is_request = is_request
        self.start_ts = self.end_ts = ts
        self.start_seq = seq
        self.ack = ack
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.body_size = 0

    @property
    def kind(self) -> str:
        return "request" if self.is_request else "response"


# the lengths of the header names `note_header` looks at: Host, Content-Length,
# Content-Encoding, Transfer-Encoding
NOTED_NAME_SIZES = frozenset({4, 14, 16, 17})


def note_header(message: Message, name: bytes, value: bytes) -> None:
    """Note a header of the head (not a trailer) if it is one framing or building needs."""
    lower = name.lower()
    if lower == b"content-length":
        message.has_length = True
        if message.declared_length < 0 and value.strip().isdigit():
            message.declared_length = int(value)
    elif lower == b"transfer-encoding":
        message.has_transfer_encoding = True
        message.chunked = value.lower().rstrip().endswith(b"chunked")
    elif lower == b"host":
        if message.host is None:
            message.host = value
    elif lower == b"content-encoding" and message.coding is None:
        message.coding = value


def note_framing(message: Message) -> None:
    """Set `content_length` and, for a response, `eof_delimited` from the noted headers.

    A response body runs to the end of the connection when it has neither Content-Length nor
    chunked Transfer-Encoding and its status allows a body (RFC 9112 §6.3 rule 8).
    """
    chunked = message.chunked
    if message.declared_length >= 0 and not chunked:
        message.content_length = message.declared_length
    if not message.is_request:
        status = message.status
        message.eof_delimited = (
            status >= 200 and status not in (204, 304) and not message.has_length
            and not chunked
        )
