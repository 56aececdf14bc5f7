"""Sniffing the loopback interface while a client runs a fixed script of requests: every
exchange must be captured, decoded and logged (needs root; skipped with the reason otherwise)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from observe.capture.segment import Segment
from tests.observe.live.conftest import read_log
from tests.observe.live.servers import LiveProcess, Upstream

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]


def _can_sniff() -> str | None:
    try:
        probe = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    except (PermissionError, OSError) as exc:
        return f"cannot open a packet socket ({exc}); sniffing needs root or CAP_NET_RAW"
    probe.close()
    return None


needs_root = pytest.mark.skipif(_can_sniff() is not None, reason=str(_can_sniff()))


def _restscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "observe", *args]


def _script(base: str) -> list[tuple[str, str, int]]:
    """Run the fixed script; returns (method, path, status) for every request sent."""
    sent = []
    with httpx.Client(trust_env=False, timeout=10) as keep_alive:
        for i in range(20):
            response = keep_alive.get(f"{base}/users/{i}")
            sent.append(("GET", f"/users/{i}", response.status_code))
        response = keep_alive.post(f"{base}/orders", json={"items": list(range(2000))})
        sent.append(("POST", "/orders", response.status_code))
    for i in range(10):  # a new connection each time
        with httpx.Client(trust_env=False, timeout=10) as one_shot:
            response = one_shot.get(f"{base}/fail/{i}")
            sent.append(("GET", f"/fail/{i}", response.status_code))
    return sent


@pytest.mark.live
@needs_root
def test_every_exchange_of_a_fixed_script_is_sniffed_on_loopback(
        tmp_path: Path, upstream: Upstream) -> None:
    log = tmp_path / "sniffed.jsonl"
    pcap = tmp_path / "raw.pcap"
    sniffer = LiveProcess(_restscope(
        "sniff", "--iface", "lo", "--filter", f"tcp port {upstream.port}", "--log", str(log),
        "--write-pcap", str(pcap), "--quiet"))
    try:
        sniffer.wait_for(r"restscope sniff listening on lo")
        sent = _script(upstream.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
                not log.exists() or len(read_log(log)) < len(sent)):
            time.sleep(0.05)
    finally:
        output = sniffer.stop()
    exchanges = read_log(log)
    seen = [(e.request.method, e.request.path, e.response.status if e.response else None)
            for e in exchanges]
    assert sorted(seen) == sorted(sent), output
    for exchange in exchanges:
        assert exchange.origin.kind == "sniff"
        assert exchange.incomplete is None
        assert exchange.response is not None and exchange.response.json()
    big = next(e for e in exchanges if e.request.path == "/orders")
    assert big.request.json() == {"items": list(range(2000))}  # many segments reassembled
    assert f"exchanges: {len(sent)}" in output
    assert "kernel drops" not in output
    # the raw packets were kept too: reading the pcap back gives the same exchanges
    from observe.sources import read_source

    again = [(e.request.method, e.request.path, e.response.status if e.response else None)
             for e in read_source(pcap)]
    assert sorted(again) == sorted(sent)


@pytest.mark.live
@needs_root
def test_sniffing_an_unknown_interface_is_one_line() -> None:
    result = subprocess.run(_restscope("sniff", "--iface", "nosuch0", "--duration", "1"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "nosuch0" in result.stderr and "Traceback" not in result.stderr


def test_a_loopback_frame_becomes_the_segment_the_tracker_is_fed() -> None:
    from observe.live.sniffer import Sniffer, SniffSettings
    from observe.tally import Tally

    got: list[object] = []
    sniffer = Sniffer(SniffSettings(), Tally(), got.append)
    fed: list[Segment] = []

    def record(segment: Segment) -> list[object]:
        fed.append(segment)
        return []

    sniffer.tracker.feed = record  # type: ignore[method-assign,assignment]
    ethernet = b"\x00" * 12 + b"\x08\x00"
    ip = bytes([0x45, 0, 0, 45, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1])
    tcp = (b"\x30\x39\x1f\x90" + (1).to_bytes(4, "big") + (0).to_bytes(4, "big")
           + bytes([0x50, 0x18]) + b"\xff\xff\x00\x00\x00\x00")
    sniffer.handle_frame(1.5, ethernet + ip + tcp + b"GET /")
    assert fed == [Segment(1.5, "127.0.0.1", 12345, "127.0.0.1", 8080, 1, 0, 0x18, b"GET /")]


def test_missing_privileges_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import scapy.arch  # noqa: F401
    from scapy.config import conf

    from observe.errors import InputError
    from observe.live.sniffer import open_listen_socket

    def refuse(**kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(conf, "L2listen", refuse)
    with pytest.raises(InputError, match="needs root or the CAP_NET_RAW capability"):
        open_listen_socket("lo", "tcp")
