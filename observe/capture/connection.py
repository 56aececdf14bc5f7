"""One TCP connection carrying HTTP/1.x: two reassembled directions, requests paired with responses.

A `Connection` owns a `HalfStream` and a `MessageReader` per direction and pairs each response
with the request it answers, handing finished pairs to its `ExchangeSink` in request order.

Invariants:
1. In step, pairing is FIFO (keep-alive and pipelining). Interim 1xx responses (other than 101)
   answer nothing: they are counted, not paired.
2. After a gap, or when the capture started mid-connection, the FIFO count is no longer trusted.
   TCP numbers then decide, for a client that does not pipeline: a response answers one of
   the requests the client sent before it saw the response begin (their ACKs) that the server
   had read (the response's ACK), the last of them; requests passed over lost their response
   in the gap; a response no known request can have caused answers one never seen and is
   skipped. When the numbers do not settle it (pipelining, nothing known before the request),
   the pair is made FIFO and marked incomplete, never passed off as certain. Known limit: a
   client that first pipelines exactly where the capture lost a request is not detected.
3. A 101 answer or a CONNECT tunnel ends HTTP on the connection; the rest is skipped and counted.
4. Pairs leave in request order, once both messages are done; `close` flushes everything, so a
   request without a response still leaves, with the reason.
5. Memory is bounded: at most MAX_WAITING requests wait for an answer (and as many answers for
   a request); past that the oldest leaves unanswered (or is skipped and counted).
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from observe.capture.http1 import NO_BODY, NORMAL, STOP, MessageReader
from observe.capture.messages import Message
from observe.capture.reassembly import HalfStream, seq_before
from observe.exchange import Endpoint
from observe.tally import Tally

UNSURE_PAIRING = "uncertain request/response pairing after a gap"
RESPONSE_LOST = "response lost in a gap"
NO_RESPONSE = "no response"
UPGRADED = "upgraded (101)"
TUNNEL = "tunnel (CONNECT)"
NOT_HTTP = "not HTTP"
MAX_WAITING = 256  # requests waiting for an answer, or answers for a request, per connection

_SKIP = Message(False, 0.0, 0, None)  # marker: a response answering a request never seen


class ExchangeSink(Protocol):
    """Where a connection hands its finished request/response pairs."""

    tally: Tally

    def emit(self, connection: Connection, request: Message, response: Message | None) -> None:
        ...


class Connection:
    """Both directions of one TCP connection and the HTTP exchanges on it."""

    __slots__ = (
        "bodiless_due",
        "client",
        "client_stream",
        "dead",
        "desynced",
        "endpoints",
        "fin_seen",
        "keys",
        "last_ts",
        "opened_at",
        "outbox",
        "pipelining",
        "raw_keys",
        "requests",
        "responses",
        "server",
        "server_stream",
        "sink",
        "unanswered",
        "waiting",
    )

    def __init__(
        self,
        sink: ExchangeSink,
        client: tuple[str, int],
        server: tuple[str, int],
        in_step: bool,
        max_pending: int,
        max_body: int,
    ) -> None:
        self.sink = sink
        self.client = client
        self.server = server
        self.keys = ((*client, *server), (*server, *client))
        # both directions' 4-tuples as IPv4 packets carry them, and the client and server
        # `Endpoint`s of its exchanges (both set by the tracker)
        self.raw_keys: tuple[bytes | None, bytes | None] = (None, None)
        self.endpoints: tuple[Endpoint, Endpoint] | None = None
        self.requests = MessageReader(True, self, resyncing=not in_step, max_body=max_body)
        self.responses = MessageReader(False, self, resyncing=not in_step, max_body=max_body)
        self.client_stream = HalfStream(self.requests, max_pending)
        self.server_stream = HalfStream(self.responses, max_pending)
        self.unanswered: deque[Message] = deque()  # requests whose response has not begun
        self.waiting: deque[Message] = deque()  # responses read before their request
        self.outbox: deque[Message] = deque()  # paired requests, in order, until both are done
        self.bodiless_due = 0  # unanswered HEAD/CONNECT requests
        self.desynced = not in_step
        self.pipelining = False  # the client was seen sending a request before an answer
        self.dead: str | None = None  # why the rest of the connection is ignored
        self.fin_seen = False
        self.last_ts = 0.0
        self.opened_at = 0  # the tracker's `packet` when it opened this connection

    # -- MessageListener --------------------------------------------------------------------

    def lost_step(self, reader: MessageReader) -> None:
        self.desynced = True

    def not_http(self, reader: MessageReader) -> None:
        if reader.is_request or self.requests.messages == 0:
            self.kill(NOT_HTTP)

    def message_head(self, message: Message) -> int:
        if message.is_request:
            if (
                message.ack is not None
                and message.ack == message.previous_ack
                and self.requests.messages > 1
            ):
                # sent before any answer to the previous request arrived
                self.pipelining = True
            self.unanswered.append(message)
            if message.method in ("HEAD", "CONNECT"):
                self.bodiless_due += 1
            if len(self.unanswered) > MAX_WAITING:
                # a client that is never answered: give up on the oldest, keep memory bounded
                oldest = self._take_unanswered()
                oldest.no_response = NO_RESPONSE
                self.outbox.append(oldest)
                self.desynced = True
            return NORMAL
        status = message.status
        if status < 200 and status != 101:
            self.sink.tally.count("interim 1xx responses")
            return NORMAL
        request = self._match(message)
        if request is None:
            self.waiting.append(message)
            if len(self.waiting) > MAX_WAITING:
                # a server that talks without being asked: keep memory bounded
                self.waiting.popleft()
                self.sink.tally.skip("exchange", "response without request")
            return NORMAL
        if request is _SKIP:
            message.skip = True
            return NORMAL
        self._pair(request, message)
        if request.method == "HEAD":
            return NO_BODY
        if request.method == "CONNECT" and 200 <= status < 300:
            return STOP
        return NORMAL

    def message_done(self, message: Message) -> None:
        tally = self.sink.tally
        if not message.head_done:
            reason = f"{message.kind} without complete headers ({message.incomplete})"
            tally.skip("exchange", reason)
            return
        if message.is_request:
            if self.waiting:
                self._pair_waiting()
        else:
            status = message.status
            if status < 200 and status != 101:
                return
            if message.skip:
                tally.skip("exchange", "response to a request not captured")
                return
            request = message.partner
            if request is not None:
                if status == 101:
                    self._emit_ready()
                    self.kill(UPGRADED)
                    return
                if request.method == "CONNECT" and 200 <= status < 300:
                    self._emit_ready()
                    self.kill(TUNNEL)
                    return
                if self.requests.paused is not None:
                    self.requests.resume()
        self._emit_ready()

    # -- pairing ----------------------------------------------------------------------------

    def _take_unanswered(self) -> Message:
        request = self.unanswered.popleft()
        if request.method in ("HEAD", "CONNECT"):
            self.bodiless_due -= 1
        return request

    def _match(self, response: Message) -> Message | None:
        """The request `response` answers, `_SKIP`, or None when it has not been read yet."""
        unanswered = self.unanswered
        if not unanswered:
            return None
        if not self.desynced:
            return self._take_unanswered()
        start, ack = response.start_seq, response.ack
        if ack is None or self.pipelining:
            return self._unsure(response)
        # the requests the client sent before it saw this response begin
        sent_before = 0
        for request in unanswered:
            if request.ack is not None and seq_before(start, request.ack):
                break
            sent_before += 1
        if sent_before == 0:
            return _SKIP  # the client had this response before any request we know of
        last = unanswered[sent_before - 1]
        if last.end_seq is not None and seq_before(ack, last.end_seq):
            # the server answered before it had read `last`: an earlier request
            return _SKIP if sent_before == 1 else self._unsure(response)
        if last.after_loss and (last.previous_ack is None or last.previous_ack == last.ack):
            # a lost request may have been pipelined with `last`
            return self._unsure(response)
        for _ in range(sent_before - 1):
            lost = self._take_unanswered()
            lost.no_response = RESPONSE_LOST
            self.outbox.append(lost)
        self.desynced = False
        return self._take_unanswered()

    def _unsure(self, response: Message) -> Message:
        """Pair FIFO, marking the exchange incomplete: the pairing is a guess."""
        if response.incomplete is None:
            response.incomplete = UNSURE_PAIRING
        return self._take_unanswered()

    def _pair(self, request: Message, response: Message) -> None:
        request.partner = response
        response.partner = request
        self.outbox.append(request)

    def _pair_waiting(self) -> None:
        """Pair responses read before their requests, now that more requests are known."""
        waiting = self.waiting
        while waiting and self.unanswered:
            response = waiting[0]
            request = self._match(response)
            if request is None:
                return
            waiting.popleft()
            if request is _SKIP:
                response.skip = True
                if response.done:
                    self.sink.tally.skip("exchange", "response to a request not captured")
                continue
            self._pair(request, response)

    def _emit_ready(self) -> None:
        outbox = self.outbox
        emit = self.sink.emit
        while outbox:
            request = outbox[0]
            response = request.partner
            if not request.done or (response is not None and not response.done):
                return
            outbox.popleft()
            emit(self, request, response)
            # break the request <-> response cycle so reference counting frees them at once
            request.partner = None
            if response is not None:
                response.partner = None

    # -- end of the connection --------------------------------------------------------------

    def kill(self, reason: str) -> None:
        """Stop reading HTTP on this connection; its remaining bytes are skipped."""
        if self.dead is None:
            self.dead = reason
            self.sink.tally.skip("stream", reason)
        self.requests.stop()
        self.responses.stop()

    def close(self, reset: bool = False) -> None:
        """End of the connection (FIN both ways, RST, idle, end of input): flush everything."""
        self.requests.push()
        self.client_stream.flush()
        self.requests.push()
        self.server_stream.flush()
        self.requests.eof(reset)
        self.responses.eof(reset)
        if self.waiting:
            self._pair_waiting()
        tally = self.sink.tally
        for response in self.waiting:
            if not response.skip:
                tally.skip("exchange", "response without request")
        self.waiting.clear()
        while self.unanswered:
            request = self._take_unanswered()
            request.no_response = NO_RESPONSE
            self.outbox.append(request)
        for request in self.outbox:
            request.done = True
            answer = request.partner
            if answer is not None and not answer.done:
                answer.done = True
                answer.incomplete = answer.incomplete or "response cut off"
        self._emit_ready()
        duplicates = self.client_stream.duplicates + self.server_stream.duplicates
        if duplicates:
            tally.skip("packet", "retransmitted data", duplicates)
        lost = self.client_stream.gap_bytes + self.server_stream.gap_bytes
        if lost:
            tally.count("bytes lost in gaps", lost)
        discarded = self.requests.discarded + self.responses.discarded
        if discarded:
            tally.count("bytes skipped to find the next message", discarded)
        if (
            self.dead is None
            and self.requests.messages == 0
            and self.responses.messages == 0
            and (self.client_stream.seen_data or self.server_stream.seen_data)
        ):
            self.dead = NOT_HTTP
            tally.skip("stream", NOT_HTTP)
