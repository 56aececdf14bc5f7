"""Benchmarks of live capture (issue 7, acceptance 4 and 5).

    .venv/bin/python bench/live.py memory [--count 1000000] [--tracker]
    .venv/bin/python bench/live.py sniff  [--rates 250,500,1000,2000,4000] [--seconds 3]  (root)
    .venv/bin/python bench/live.py proxy  [--rates 100,250,500,1000] [--requests 1000]

memory: streams synthetic exchanges (2,000 distinct operations, ids in paths, 3% errors,
  log-normal latencies) through the live monitor (`LiveMonitor`: per-operation table, quantile
  sketches, rate rings, drift bookkeeping) and prints RSS at checkpoints and the peak; with
  --tracker, as TCP segments (10 keep-alive requests per connection, 200 connections open at a
  time) through the sans-I/O connection tracker the sniffer feeds.
sniff: a loopback HTTP/1.1 server (its own process) and a paced keep-alive load generator (its
  own process) run while `restscope sniff --iface lo` logs exchanges; for each rate, the number
  of requests answered is compared with the number of exchanges in the capture log.
proxy: the same load through `restscope proxy --upstream` (reverse mode): lost exchanges per
  rate, and the p50 latency of sequential requests direct vs through the proxy (in rounds).
A rate counts as reached only when the load generator achieved at least 95% of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BODY = json.dumps({"id": 12345, "name": "Ada", "tags": ["a", "b"], "ok": True}).encode()


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- memory -------------------------------------------------------------------------------------


def bench_memory(count: int) -> None:
    from observe.exchange import Exchange, Request, Response, Timing
    from observe.live.checking import Drift
    from observe.live.monitor import LiveMonitor

    rng = random.Random(1)
    ok, failed = Response(status=200, body=BODY), Response(status=503, body=b"{}")

    def check(exchange: Exchange) -> list[Drift]:  # a drift on 1% of exchanges, 50 kinds
        n = hash(exchange.request.target) % 100
        return [Drift("type-changed", "warning", f"/field{n}", "int vs str")] if n == 0 else []

    monitor = LiveMonitor(check)
    t0 = 1_700_000_000.0
    checkpoints = {int(count * f) for f in (0.01, 0.1, 0.25, 0.5, 0.75, 1.0)}
    started = time.perf_counter()
    print(f"{'exchanges':>10} {'operations':>10} {'rss MB':>8} {'exch/s':>9}")
    for i in range(1, count + 1):
        op = rng.randrange(2000)
        request = Request(method="GET", authority="api.example.com",
                          target=f"/v1/resource{op}/{rng.randrange(10**9)}/items")
        start = t0 + i * 0.001
        duration = rng.lognormvariate(-4, 1)
        exchange = Exchange(request=request, response=failed if rng.random() < 0.03 else ok,
                            timing=Timing(start, start, start + duration, start + duration))
        monitor.observe(exchange)
        if i in checkpoints:
            rate = i / (time.perf_counter() - started)
            print(f"{i:>10} {len(monitor.table):>10} {_rss_mb():>8.1f} {rate:>9.0f}",
                  flush=True)
    print(f"peak RSS {_peak_mb():.1f} MB for {count} exchanges")


def bench_tracker_memory(count: int, per_connection: int = 10, concurrent: int = 200) -> None:
    """`count` exchanges as TCP segments through the sans-I/O tracker the sniffer uses."""
    from observe.capture.segment import ACK, FIN, PSH, SYN, Segment
    from observe.capture.tracker import ConnectionTracker
    from observe.sources import ReadOptions
    from observe.tally import Tally

    tally = Tally()
    tracker = ConnectionTracker(ReadOptions(), tally, location="bench", kind="sniff")
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
    connections = count // per_connection
    checkpoints = {int(connections * f) for f in (0.01, 0.1, 0.25, 0.5, 0.75, 1.0)}
    now = 1_700_000_000.0
    done = 0
    started = time.perf_counter()
    print(f"{'exchanges':>10} {'rss MB':>8} {'exch/s':>9}")
    # `concurrent` connections are open at any time; their segments interleave round-robin
    open_connections: list[list[Segment]] = []
    for number in range(connections):
        port = 10_000 + number % 50_000
        server = ("127.0.0.2", 8080)
        client = ("127.0.0.1", port)
        c_seq, s_seq = (number * 7919) & 0xFFFFFFFF, (number * 104729) & 0xFFFFFFFF
        segments = [
            Segment(now, *client, *server, c_seq, 0, SYN, b""),
            Segment(now, *server, *client, s_seq, c_seq + 1, SYN | ACK, b""),
        ]
        c_seq += 1
        s_seq += 1
        for n in range(per_connection):
            request = f"GET /v1/items/{n} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
            segments.append(Segment(now, *client, *server, c_seq, s_seq, PSH | ACK, request))
            c_seq += len(request)
            segments.append(Segment(now, *server, *client, s_seq, c_seq, PSH | ACK, response))
            s_seq += len(response)
        segments.append(Segment(now, *client, *server, c_seq, s_seq, FIN | ACK, b""))
        segments.append(Segment(now, *server, *client, s_seq, c_seq + 1, FIN | ACK, b""))
        open_connections.append(segments)
        if len(open_connections) >= concurrent or number == connections - 1:
            for step in range(max(len(c) for c in open_connections)):
                for connection in open_connections:
                    if step < len(connection):
                        now += 0.00001
                        done += len(tracker.feed(connection[step]._replace(timestamp=now)))
            open_connections = []
        if number + 1 in checkpoints:
            rate = done / (time.perf_counter() - started)
            print(f"{done:>10} {_rss_mb():>8.1f} {rate:>9.0f}", flush=True)
    done += len(tracker.finish())
    print(f"tracker: {done} exchanges, peak RSS {_peak_mb():.1f} MB; skipped: "
          f"{dict(tally.skipped) or 'nothing'}")


# --- loopback load ------------------------------------------------------------------------------


async def _serve(port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(response)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port_queue.put(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def _server_process(port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    asyncio.run(_serve(port_queue))


async def _load(port: int, rate: float, seconds: float, connections: int,
                sequential: bool = False) -> tuple[int, int, list[float], float]:
    """Paced requests; returns (sent, answered, latencies in seconds, elapsed seconds)."""
    total = int(rate * seconds)
    latencies: list[float] = []
    answered = 0
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def connection(index: int) -> None:
        nonlocal answered
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for n in range(index, total, connections):
            if not sequential:
                delay = t0 + n / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            began = time.perf_counter()
            writer.write(f"GET /v1/items/{n} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
            answered += 1
        writer.close()

    await asyncio.gather(*(connection(i) for i in range(connections)))
    return total, answered, latencies, loop.time() - t0


def _load_process(port: int, rate: float, seconds: float, connections: int,
                  sequential: bool, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(_load(port, rate, seconds, connections, sequential)))


def run_load(port: int, rate: float, seconds: float, connections: int,
             sequential: bool = False) -> tuple[int, int, list[float], float]:
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.Process(target=_load_process,
                                      args=(port, rate, seconds, connections, sequential, out))
    process.start()
    result = out.get(timeout=seconds * 10 + 60)
    process.join()
    return result  # type: ignore[no-any-return]


def start_server() -> tuple[multiprocessing.Process, int]:
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.Process(target=_server_process, args=(ports,), daemon=True)
    process.start()
    return process, ports.get(timeout=10)


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.endswith(b"\n"))


def _wait_lines(path: Path, expected: int, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    seen = _lines(path)
    while seen < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = _lines(path)
    return seen


def _restscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "observe", *args]


def _wait_output(process: subprocess.Popen[str], pattern: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(pattern, line)
        if match:
            return match.group(1) if match.groups() else line
        if process.poll() is not None:
            break
    raise SystemExit(f"{pattern!r} never printed")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


def bench_sniff(rates: list[float], seconds: float, connections: int) -> None:
    server, port = start_server()
    print(f"{'rate/s':>8} {'achieved':>8} {'sent':>7} {'answered':>9} {'captured':>9} "
          f"{'lost':>6}  drops")
    best = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for rate in rates:
            log = Path(folder) / f"sniff-{int(rate)}.jsonl"
            sniffer = subprocess.Popen(
                _restscope("sniff", "--iface", "lo", "--filter", f"tcp port {port}",
                           "--log", str(log), "--quiet", "--log-max", "1GB"),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            _wait_output(sniffer, r"(restscope sniff listening)")
            sent, answered, _, elapsed = run_load(port, rate, seconds, connections)
            captured = _wait_lines(log, answered)
            _stop(sniffer)
            output = sniffer.stdout.read() if sniffer.stdout else ""
            drops = re.search(r"kernel drops: *(\d+)", output)
            lost = answered - captured
            print(f"{rate:>8.0f} {answered / elapsed:>8.0f} {sent:>7} {answered:>9} "
                  f"{captured:>9} {lost:>6}  {drops.group(1) if drops else 0}", flush=True)
            if lost == 0 and answered == sent and answered / elapsed >= 0.95 * rate:
                best = max(best, rate)
    server.terminate()
    print(f"highest rate reached with zero lost exchanges (sniffed): {best:.0f} requests/s")


def bench_proxy(rates: list[float], seconds: float, connections: int, requests: int,
                rounds: int) -> None:
    server, port = start_server()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "proxy.jsonl"
        proxy = subprocess.Popen(
            _restscope("proxy", "--listen", "127.0.0.1:0", "--upstream",
                       f"http://127.0.0.1:{port}", "--log", str(log), "--log-max", "1GB",
                       "--confdir", str(Path(folder) / "conf")),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        proxy_port = int(_wait_output(proxy, r"listening on 127\.0\.0\.1:(\d+)"))
        # latency: sequential requests on one keep-alive connection, direct then proxied,
        # in several rounds (a busy machine shifts whole rounds; each round is printed)
        run_load(port, 1000, 200 / 1000, 1, sequential=True)  # warm up
        run_load(proxy_port, 1000, 200 / 1000, 1, sequential=True)
        added = []
        for round_number in range(1, rounds + 1):
            direct = run_load(port, requests, 1.0, 1, sequential=True)[2]
            proxied = run_load(proxy_port, requests, 1.0, 1, sequential=True)[2]
            direct_p50 = statistics.median(direct) * 1000
            proxied_p50 = statistics.median(proxied) * 1000
            added.append(proxied_p50 - direct_p50)
            print(f"round {round_number}: p50 direct {direct_p50:.3f} ms, through the proxy "
                  f"{proxied_p50:.3f} ms, added {added[-1]:.3f} ms ({requests} requests)",
                  flush=True)
        print(f"added p50 latency: median of rounds {statistics.median(added):.3f} ms, "
              f"best round {min(added):.3f} ms")
        print(f"{'rate/s':>8} {'achieved':>8} {'sent':>7} {'answered':>9} {'logged':>7} "
              f"{'lost':>6}")
        best = 0.0
        for rate in rates:
            before = _wait_lines(log, 0, 0)
            sent, answered, _, elapsed = run_load(proxy_port, rate, seconds, connections)
            logged = _wait_lines(log, before + answered) - before
            lost = sent - logged
            print(f"{rate:>8.0f} {answered / elapsed:>8.0f} {sent:>7} {answered:>9} {logged:>7} "
                  f"{lost:>6}", flush=True)
            if lost == 0 and answered / elapsed >= 0.95 * rate:
                best = max(best, rate)
        _stop(proxy)
        print(f"highest rate reached with zero lost exchanges (proxy): {best:.0f} requests/s")
    server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    memory = sub.add_parser("memory")
    memory.add_argument("--count", type=int, default=1_000_000)
    memory.add_argument("--tracker", action="store_true",
                        help="stream them as TCP segments through the connection tracker")
    for name, default in (("sniff", "250,500,1000,2000,4000"), ("proxy", "100,250,500,1000")):
        command = sub.add_parser(name)
        command.add_argument("--rates", default=default)
        command.add_argument("--seconds", type=float, default=3.0)
        command.add_argument("--connections", type=int, default=8)
        if name == "proxy":
            command.add_argument("--requests", type=int, default=1000)
            command.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.what == "memory":
        if args.tracker:
            bench_tracker_memory(args.count)
        else:
            bench_memory(args.count)
        return
    rates = [float(r) for r in args.rates.split(",")]
    if args.what == "sniff":
        if os.geteuid() != 0:
            raise SystemExit("sniffing needs root")
        bench_sniff(rates, args.seconds, args.connections)
    else:
        bench_proxy(rates, args.seconds, args.connections, args.requests, args.rounds)


if __name__ == "__main__":
    main()
