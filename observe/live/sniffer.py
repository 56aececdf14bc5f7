"""Passive sniffing: raw frames from a scapy L2 listen socket into the pcap reader's pipeline.

scapy opens the Linux packet socket, compiles and attaches the BPF filter; frames are then read
with `recvmsg` (kernel timestamps via SO_TIMESTAMPNS), decoded by `observe.capture.linklayer`,
reassembled by the same sans-I/O `ConnectionTracker` as pcap files, run through the plugin
chain and appended to the rolling capture log. `--write-pcap` keeps every frame as well.

Invariants:
1. On the loopback interface each packet reaches a packet socket twice (outgoing, then
   incoming); the outgoing copy is dropped, as libpcap does, so nothing is seen twice.
2. Kernel drops (PACKET_STATISTICS) are added to the tally as "kernel drops"; reassembly and
   decoding problems are counted by the tracker and the link decoder, by reason.
3. Missing privileges or an unknown interface end the command with one line, no traceback.
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from observe.errors import InputError
from observe.tally import Tally

SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
RECEIVE_BUFFER = 64 * 1024 * 1024
SNAPLEN = 262144
# ARPHRD_* hardware type -> pcap link type
_LINK_TYPES = {1: 1, 772: 1, 65534: 101, 776: 101, 778: 101}
_ANCILLARY = socket.CMSG_SPACE(16) + socket.CMSG_SPACE(32)


@dataclass(frozen=True)
class SniffSettings:
    iface: str = "lo"
    bpf: str = "tcp"
    write_pcap: Path | None = None
    duration: float | None = None
    log: str = ""
    plugins: tuple[str, ...] = ()
    plugin_config: str | None = None
    redact: bool = True
    strict: bool = False
    max_bytes: int = 64 * 1024 * 1024
    backups: int = 5
    summary_dir: str | None = None
    summary_every: float = 60.0


class PcapWriter:
    """A plain pcap file (microsecond timestamps) of the frames as captured."""

    def __init__(self, path: Path, linktype: int) -> None:
        try:
            self.handle: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror})") from exc
        self.handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, linktype))

    def write(self, timestamp: float, frame: bytes) -> None:
        seconds = int(timestamp)
        micros = int((timestamp - seconds) * 1_000_000)
        self.handle.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)))
        self.handle.write(frame)

    def close(self) -> None:
        self.handle.close()


def open_listen_socket(iface: str, bpf: str) -> Any:
    """A scapy L2 listen socket on `iface` with the BPF filter attached (InputError if not)."""
    import scapy.arch  # noqa: F401 - sets conf.L2listen for this platform
    from scapy.config import conf
    from scapy.error import Scapy_Exception

    conf.bufsize = max(conf.bufsize, 1 << 20)
    # scapy warns that it cannot dissect the link type: we never dissect with scapy
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    try:
        sock = conf.L2listen(iface=iface, filter=bpf or None)
    except PermissionError as exc:
        raise InputError(
            f"sniffing on {iface} needs root or the CAP_NET_RAW capability (try sudo)"
        ) from exc
    except OSError as exc:
        if exc.errno in (errno.ENODEV, errno.ENXIO):
            raise InputError(f"no network interface named {iface!r}") from exc
        if exc.errno == errno.EPERM:
            raise InputError(
                f"sniffing on {iface} needs root or the CAP_NET_RAW capability (try sudo)"
            ) from exc
        raise InputError(f"cannot sniff on {iface}: {exc.strerror or exc}") from exc
    except Scapy_Exception as exc:
        raise InputError(f"cannot sniff on {iface} with filter {bpf!r}: {exc}") from exc
    except ValueError as exc:  # scapy: unknown interface name
        raise InputError(f"no network interface named {iface!r} ({exc})") from exc
    raw: socket.socket = sock.ins
    for option in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            raw.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
            break
        except OSError:
            continue
    return sock


def kernel_drops(raw: socket.socket) -> tuple[int, int]:
    """(packets, drops) since the last call (the kernel resets the counters on read)."""
    try:
        data = raw.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    except OSError:
        return 0, 0
    packets, drops = struct.unpack("II", data)
    return packets, drops


def _timestamp(ancillary: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanos = struct.unpack_from("qq", data)
            return seconds + nanos / 1e9
    return time.time()


class Sniffer:
    """Frames from a socket -> segments -> exchanges, all counted in `tally`."""

    def __init__(self, settings: SniffSettings, tally: Tally,
                 on_exchange: Callable[[Any], None]) -> None:
        from observe.capture.linklayer import LinkDecoder
        from observe.capture.tracker import ConnectionTracker
        from observe.sources import ReadOptions

        self.settings = settings
        self.tally = tally
        self.on_exchange = on_exchange
        self.decoder = LinkDecoder(tally)
        self.tracker = ConnectionTracker(ReadOptions(), tally, location=settings.iface,
                                         kind="sniff")
        self.packets = 0
        self.drops = 0
        self.pcap: PcapWriter | None = None
        self.linktype = 1

    def handle_frame(self, timestamp: float, frame: bytes) -> None:
        self.packets += 1
        if self.pcap is not None:
            self.pcap.write(timestamp, frame)
        segment = self.decoder.decode(timestamp, self.linktype, memoryview(frame))
        if segment is None:
            return
        for exchange in self.tracker.feed(segment):
            self.on_exchange(exchange)

    def run(self, should_stop: Callable[[], bool],
            on_ready: Callable[[], None] | None = None) -> None:
        sock = open_listen_socket(self.settings.iface, self.settings.bpf)
        raw: socket.socket = sock.ins
        hatype = raw.getsockname()[3]
        if hatype not in _LINK_TYPES:
            sock.close()
            raise InputError(f"{self.settings.iface}: link type {hatype} is not supported")
        self.linktype = _LINK_TYPES[hatype]
        if self.settings.write_pcap is not None:
            self.pcap = PcapWriter(self.settings.write_pcap, self.linktype)
        loopback = hatype == 772
        raw.setblocking(False)
        kernel_drops(raw)  # reset the counters: count from now on
        if on_ready is not None:
            on_ready()
        try:
            while not should_stop():
                ready, _, _ = select.select([raw], [], [], 0.1)
                if not ready:
                    self._account(raw)
                    continue
                for _ in range(4096):
                    try:
                        frame, ancillary, _flags, address = raw.recvmsg(SNAPLEN, _ANCILLARY)
                    except BlockingIOError:
                        break
                    if loopback and address[2] == PACKET_OUTGOING:
                        continue
                    self.handle_frame(_timestamp(ancillary), frame)
                self._account(raw)
            for exchange in self.tracker.finish():
                self.on_exchange(exchange)
        finally:
            self._account(raw)
            sock.close()
            if self.pcap is not None:
                self.pcap.close()
            self.tally.count("packets", self.packets)
            if self.drops:
                self.tally.count("kernel drops", self.drops)
            self.decoder.flush_counts()

    def _account(self, raw: socket.socket) -> None:
        _packets, drops = kernel_drops(raw)
        self.drops += drops


def run_sniffer(settings: SniffSettings, echo: Callable[[str], None] | None) -> Tally:
    """Sniff until Ctrl-C/SIGTERM or `settings.duration`; returns the run's tally."""
    import signal

    from observe.live.capture_log import CaptureLogWriter
    from observe.live.summaries import open_summary_sink
    from observe.pipeline import PluginChain
    from observe.report import exchange_line

    tally = Tally()
    summaries = open_summary_sink(settings.summary_dir, settings.summary_every)
    chain = PluginChain.build(settings.plugins, tally, config_path=settings.plugin_config,
                              redact=settings.redact, strict=settings.strict)
    writer = CaptureLogWriter(settings.log, settings.max_bytes, settings.backups) \
        if settings.log else None
    stopped = [False]

    def stop(signum: int, frame: Any) -> None:
        stopped[0] = True

    def on_exchange(exchange: Any) -> None:
        result = chain.apply(exchange)
        if result is None:
            return
        tally.exchange(result.incomplete)
        if writer is not None:
            writer.write(result)
        if summaries is not None:
            summaries.add(result)
        if echo is not None:
            echo(exchange_line(result))

    deadline = None if settings.duration is None else time.monotonic() + settings.duration
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    sniffer = Sniffer(settings, tally, on_exchange)

    def ready() -> None:
        sys.stderr.write(f"restscope sniff listening on {settings.iface} "
                         f"(filter: {settings.bpf})\n")
        sys.stderr.flush()

    try:
        sniffer.run(lambda: stopped[0] or (deadline is not None
                                           and time.monotonic() >= deadline), ready)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if writer is not None:
            writer.close()
        if summaries is not None:
            summaries.close()
    return tally
