"""HTTP/1.0 and 1.1 messages read from one direction of a reassembled TCP stream (sans-I/O).

A `MessageReader` is the `StreamSink` of a `HalfStream`: fed ordered data, gaps and the end of
the stream, it parses requests or responses with httptools (llhttp) and reports each message to
its `MessageListener` twice: when its head is complete (`message_head`) and when it is done
(`message_done`, complete or with an `incomplete` reason).

Invariants:
1. Framing is the parser's: Content-Length, chunked (trailers kept apart), close-delimited
   bodies and the status codes without a body (1xx, 204, 304) are llhttp's decisions. The only
   decision taken from outside the stream is "this response has no body" (the answer to HEAD or
   a CONNECT tunnel), which the listener gives from the request it pairs the response with.
2. To stop exactly where such a header block ends, data is fed one byte at a time while the
   listener says a bodiless response may be due (`bodiless_due`). Otherwise contiguous data is
   parsed in big pieces: a segment with PSH at once, unless it leaves a Content-Length body
   unfinished; queued data when it finishes that body, when the other side speaks, at a gap
   and at the end of the stream (`push`). A queued piece never mixes ACK numbers, so each
   message keeps the ACK it was sent with.
3. Bytes after a gap or a parse error are never glued to what came before: the message in
   progress is reported incomplete, and reading resumes at the next request line or status line
   found by `resynchronise` (also how a capture that starts mid-connection gets in step).
4. A body is bytes as on the wire with chunked transfer-coding removed; its size is capped.
5. Header fields are kept as text: names Latin-1, values UTF-8, else Latin-1 (never lossy).
"""

from __future__ import annotations

from typing import Protocol

import httptools

from observe.capture.messages import (
    NOTED_NAME_SIZES,
    REQUEST_LINE,
    STATUS_LINE,
    Message,
    note_framing,
    note_header,
)
from observe.capture.reassembly import SEQ_MASK

NORMAL = 0  # message_head: the body follows as the headers say
NO_BODY = 1  # message_head: the message ends with its headers (answer to HEAD)
STOP = 2  # message_head: stop reading this connection (tunnel)

DEFAULT_MAX_BODY = 32 * 1024 * 1024
_RESYNC_KEEP = 64 * 1024
_MAX_PAUSED = 1024 * 1024
_BATCH_LIMIT = 256 * 1024



class MessageListener(Protocol):
    """What a `MessageReader` reports to (the connection that pairs requests and responses)."""

    def message_head(self, message: Message) -> int: ...

    def message_done(self, message: Message) -> None: ...

    bodiless_due: int  # > 0 while a response without a body (HEAD, CONNECT) may be due

    def not_http(self, reader: MessageReader) -> None: ...

    def lost_step(self, reader: MessageReader) -> None: ...


class MessageReader:
    """Requests (or responses) of one stream direction, parsed with httptools."""

    __slots__ = (
        "_batch_end_ts",
        "_batch_size",
        "_batch_start",
        "_body_left",
        "_chunk",
        "_head_stop",
        "_parser",
        "_retrying",
        "_suspect",
        "batch",
        "discarded",
        "from_start",
        "is_request",
        "last_ack",
        "listener",
        "lost_before",
        "max_body",
        "message",
        "messages",
        "paused",
        "plain",
        "resync_buffer",
        "resyncing",
        "stopped",
    )

    def __init__(
        self,
        is_request: bool,
        listener: MessageListener,
        resyncing: bool = False,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.is_request = is_request
        self.listener = listener
        self.max_body = max_body
        self.message: Message | None = None
        self.messages = 0  # messages whose head was read
        self.resyncing = resyncing  # looking for the next start line
        self.from_start = not resyncing  # read from the first byte of the stream
        self.last_ack: int | None = None  # the ACK where the last message began
        self.lost_before = False  # bytes were lost or skipped since the last message began
        self.resync_buffer = bytearray()
        self.discarded = 0  # bytes thrown away while resynchronising
        self.stopped = False
        self.paused: bytearray | None = None  # data held after a request asked for an upgrade
        self.plain = not resyncing  # neither stopped, paused nor resynchronising
        self._head_stop = False
        self._retrying = False  # looking for a start line in data that failed to parse
        self._suspect = b""  # the body of the last message answering an unknown request
        # contiguous data not parsed yet: payloads, (timestamp, seq, ack) of the first, size
        self.batch: list[bytes] = []
        self._batch_start: tuple[float, int, int | None] = (0.0, 0, None)
        self._batch_size = 0
        self._batch_end_ts = 0.0
        self._body_left = 0  # bytes still due in the Content-Length body being read
        # the chunk being parsed: first timestamp, sequence number, ack, last timestamp, and the
        # sequence number after it
        self._chunk: tuple[float, int, int | None, float, int] = (0.0, 0, None, 0.0, 0)
        self._parser = self._new_parser()

    def _new_parser(self) -> httptools.HttpRequestParser | httptools.HttpResponseParser:
        parser: httptools.HttpRequestParser | httptools.HttpResponseParser
        if self.is_request:
            parser = httptools.HttpRequestParser(self)
        else:
            parser = httptools.HttpResponseParser(self)
        # a passive reader takes what the peers accepted from each other, where that does not
        # touch framing: bare LF line ends, odd bytes in header values, spaces after a chunk size
        parser.set_dangerous_leniencies(
            lenient_headers=True,
            lenient_optional_cr_before_lf=True,
            lenient_spaces_after_chunk_size=True,
        )
        return parser

    def _set_state(self) -> None:
        self.plain = not (self.stopped or self.resyncing or self.paused is not None)

    # -- StreamSink -------------------------------------------------------------------------

    def data(
        self, payload: bytes, timestamp: float, seq: int, ack: int | None, push: int = 0,
    ) -> None:
        """Take contiguous data. It is parsed at once when `push` is set (the segment's PSH),
        nothing is queued and it completes the body in progress, if any; otherwise it is
        queued until it does, the other side speaks, or the stream ends (`push`)."""
        batch = self.batch
        if batch and ack != self._batch_start[2]:
            # a batch never mixes ACKs: pairing after a gap reads them per message
            self.push()
        if (
            push
            and not batch
            and len(payload) >= self._body_left
            and self.plain
            and not self.listener.bodiless_due
        ):
            self._chunk = (timestamp, seq, ack, timestamp, (seq + len(payload)) & SEQ_MASK)
            self._feed(payload)
            return
        if not batch:
            self._batch_start = (timestamp, seq, ack)
            self._batch_size = 0
        batch.append(payload)
        size = self._batch_size = self._batch_size + len(payload)
        self._batch_end_ts = timestamp
        if (push and size >= self._body_left) or size > _BATCH_LIMIT:
            self.push()

    def push(self) -> None:
        """Parse the queued data (at a PSH, before the other direction speaks, at the end)."""
        batch = self.batch
        if not batch:
            return
        payload = batch[0] if len(batch) == 1 else b"".join(batch)
        batch.clear()
        timestamp, seq, ack = self._batch_start
        self._chunk = (timestamp, seq, ack, self._batch_end_ts, (seq + len(payload)) & SEQ_MASK)
        if self.plain:
            self._feed(payload)
            return
        if self.stopped:
            return
        if self.paused is not None:
            if len(self.paused) + len(payload) > _MAX_PAUSED:
                self.stop()
            else:
                self.paused += payload
            return
        rest = self._resynchronise(payload)
        if rest is not None:
            self._feed(rest)

    def gap(self, size: int) -> None:
        """Bytes were lost: end the message in progress and look for the next start line."""
        self.push()
        if self.stopped:
            return
        self.lost_before = True
        self.listener.lost_step(self)
        if self.paused is not None:
            self.stop()
            return
        message = self.message
        if message is not None:
            where = "body" if message.head_done else "headers"
            self._end_message(f"gap in {message.kind} {where}")
        self._restart(resync=True)

    def eof(self, reset: bool = False) -> None:
        """The stream ended (FIN, RST or end of input): finish or abandon the message."""
        self.push()
        message = self.message
        if self.stopped or message is None:
            return
        if message.eof_delimited and not reset and not message.no_body:
            self._finish_message()
        else:
            how = "reset" if reset else "closed"
            where = "body" if message.head_done else "headers"
            self._end_message(f"connection {how} in {message.kind} {where}")
        self._restart(resync=False)

    # -- feeding ----------------------------------------------------------------------------

    def _feed(self, payload: bytes | memoryview) -> None:
        if self.listener.bodiless_due:
            self._feed_carefully(payload)
        else:
            try:
                self._parser.feed_data(payload)
            except httptools.HttpParserUpgrade as upgrade:
                self._upgraded(payload[upgrade.args[0]:])
            except httptools.HttpParserError as error:
                self._parse_error(error, payload)
            if self._head_stop:
                self._lost_step()
        message = self.message
        if message is not None and message.content_length > 0:
            self._body_left = message.content_length - message.body_size
        else:
            self._body_left = 0

    def _lost_step(self) -> None:
        """A bodiless response was read without byte-exact feeding: the rest is unusable."""
        self._head_stop = False
        self.listener.lost_step(self)
        self._restart(resync=True)

    def _feed_carefully(self, payload: bytes | memoryview) -> None:
        view = memoryview(payload)
        size = len(payload)
        position = 0
        while position < size:
            try:
                self._parser.feed_data(view[position:position + 1])
            except httptools.HttpParserUpgrade as upgrade:
                self._upgraded(bytes(view[position + upgrade.args[0]:]))
                return
            except httptools.HttpParserError as error:
                self._parse_error(error, view[position:])
                return
            position += 1
            if self._head_stop:
                self._head_stop = False
                self._parser = self._new_parser()
                if self.stopped or self.resyncing:
                    return
                if not self.listener.bodiless_due:
                    self._feed(view[position:])
                    return

    def _resynchronise(self, payload: bytes) -> bytes | None:
        """Look for the next start line; return the data from it on, or None (keep looking)."""
        buffer = self.resync_buffer
        buffer += payload
        pattern = REQUEST_LINE if self.is_request else STATUS_LINE
        found = pattern.search(buffer)
        if found is None:
            if len(buffer) > _RESYNC_KEEP:
                drop = len(buffer) - _RESYNC_KEEP
                self.discarded += drop
                self.lost_before = True
                del buffer[:drop]
                if self.messages == 0 and self.discarded > _RESYNC_KEEP:
                    self.stop()
                    self.listener.not_http(self)
            return None
        start = found.start()
        self.discarded += start
        if start:
            self.lost_before = True
        rest = bytes(buffer[start:])
        buffer.clear()
        self.resyncing = False
        self._set_state()
        return rest

    def _restart(self, resync: bool) -> None:
        self.message = None
        self._parser = self._new_parser()
        self.resyncing = resync
        self.resync_buffer.clear()
        self._set_state()

    def _parse_error(self, error: Exception, payload: bytes | memoryview) -> None:
        """The data does not parse: end the message, and look for a start line in `payload`
        (the chunk that failed; once, so a start line that fails again is not retried)."""
        cause = error.__context__
        if cause is not None and not isinstance(cause, httptools.HttpParserError):
            raise cause  # a bug in a callback, not bad input
        if self.stopped:
            return
        if self.messages == 0 and self.from_start:
            self.stop()
            self.listener.not_http(self)
            return
        if self.message is not None:
            self._end_message(f"unparseable {self.message.kind}")
        self.lost_before = True
        self.listener.lost_step(self)
        self._restart(resync=True)
        if self._retrying:
            return
        self._retrying = True
        suspect, self._suspect = self._suspect, b""
        try:
            rest = self._resynchronise(suspect + bytes(payload))
            if rest is not None:
                self._feed(rest)
        finally:
            self._retrying = False

    def _upgraded(self, rest: bytes | memoryview) -> None:
        """The parser stopped after a message asking to switch protocols."""
        if self.stopped:
            return
        if self.is_request:
            # hold the client's bytes until the response says whether the switch happened
            self.paused = bytearray(rest)
            self._parser = self._new_parser()
            self._set_state()
        else:
            self.stop()

    def resume(self) -> None:
        """The server refused the upgrade: read the held bytes as HTTP again."""
        held = self.paused
        self.paused = None
        self._set_state()
        if held and not self.stopped:
            self._feed(bytes(held))

    def stop(self) -> None:
        self.stopped = True
        self.message = None
        self.paused = None
        self.plain = False

    # -- message bookkeeping ----------------------------------------------------------------

    def _end_message(self, reason: str) -> None:
        message = self.message
        if message is None:
            return
        self.message = None
        if message.incomplete is None:
            message.incomplete = reason
        message.end_ts = self._chunk[3]
        message.done = True
        self.listener.message_done(message)

    def _finish_message(self) -> None:
        message = self.message
        if message is None:
            return
        self.message = None
        if message.partner is None and message.body and not message.is_request:
            # an answer to a request not known (yet), perhaps HEAD: if what follows does not
            # parse, its "body" is looked through again for a status line
            body = b"".join(message.body)
            if (
                len(body) <= _RESYNC_KEEP
                and not message.eof_delimited
                and not message.has_transfer_encoding
            ):
                self._suspect = body
        chunk = self._chunk
        message.end_ts = chunk[3]
        message.end_seq = chunk[4]
        message.done = True
        self.listener.message_done(message)

    # -- httptools callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.stopped or self._head_stop:
            return
        timestamp, seq, ack, _, _ = self._chunk
        message = self.message = Message(self.is_request, timestamp, seq, ack)
        message.previous_ack = self.last_ack
        self.last_ack = ack
        if self.lost_before:
            message.after_loss = True
            self.lost_before = False

    def on_url(self, url: bytes) -> None:
        message = self.message
        if message is not None:
            message.target += url

    def on_status(self, status: bytes) -> None:
        message = self.message
        if message is not None:
            message.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        message = self.message
        if message is None:
            return
        try:
            field = (name.decode("latin-1"), value.decode("utf-8"))
        except UnicodeDecodeError:
            field = (name.decode("latin-1"), value.decode("latin-1"))
        if message.head_done:
            if not message.trailers:
                message.trailers = []
            message.trailers.append(field)  # type: ignore[union-attr]
        else:
            message.headers.append(field)
            if len(name) in NOTED_NAME_SIZES:
                note_header(message, name, value)

    def on_headers_complete(self) -> None:
        message = self.message
        if message is None:
            return
        parser = self._parser
        message.head_done = True
        self._suspect = b""
        message.version = "HTTP/" + parser.get_http_version()
        if self.is_request:
            assert isinstance(parser, httptools.HttpRequestParser)
            message.method = parser.get_method().decode("ascii", "replace")
        else:
            assert isinstance(parser, httptools.HttpResponseParser)
            message.status = parser.get_status_code()
        note_framing(message)
        self.messages += 1
        decision = self.listener.message_head(message)
        if decision == NORMAL:
            return
        if decision == STOP:
            message.no_body = True
            self._finish_message()
            self.stop()
            return
        message.no_body = True
        self._finish_message()
        self._head_stop = True

    def on_body(self, body: bytes) -> None:
        message = self.message
        if message is None or message.no_body:
            return
        size = message.body_size + len(body)
        message.body_size = size
        if size > self.max_body:
            if message.incomplete is None:
                message.incomplete = f"{message.kind} body larger than {self.max_body} bytes"
                message.body.clear()
            return
        message.body.append(body)

    def on_message_complete(self) -> None:
        if self.message is not None:
            self._finish_message()
