"""Benchmark `restscope capture` against tshark on generated Flickr-style captures.

    .venv/bin/python bench/capture.py                 # 2,000 and 20,000 exchanges
    .venv/bin/python bench/capture.py --sizes 20000 --mss 65483 --keep /tmp/bench
    .venv/bin/python bench/capture.py --profile 20000 # where restscope's time goes (cProfile)

For each size it writes a pcap (Ethernet, IPv4) of Flickr REST calls
(`GET /services/rest/?method=flickr.…&format=json`) over keep-alive connections, each response a
JSON body of 50 B to 20 KB with Content-Length (every body distinct: fresh photo ids and
secrets), cut into `--mss`-byte TCP segments and acknowledged by the client. Packets are
packed directly with `struct` (fast, no scapy).

It then runs, one after the other on the same file:
    restscope capture FILE                       (the listing: method, status, URL per line)
    restscope capture FILE -j 1                  (the listing in one process)
    restscope capture FILE -o OUT.jsonl          (everything, bodies included: -j all cores)
    restscope capture FILE -o OUT-j1.jsonl -j 1  (one process; must write the same bytes)
    tshark -r FILE -Y http -T fields -e http.request.uri -e http.response.code
The listing is the like-for-like run: it prints what tshark's command prints (each exchange's
URI and status); the JSONL runs write whole exchanges (headers, bodies, timings), redacted.
It checks that both tools found the same exchanges (tshark: lines with a response code; the
URIs of both, api_key values masked, must be the same multiset; the listings of -j 1 and the
default must be equal) and prints each run's wall and CPU time, peak memory and speed ratio.
Peak memory is the
largest process's (ru_maxrss, from `os.wait4`) and, for restscope's worker processes, the
peak summed over the process tree (RSS, and PSS, which splits pages the forked workers share;
sampled from /proc by bench/treemem.py). tshark is installed with apt-get when it is missing
(needs root).
Targets (issue 2, acceptance 6): >= 20x faster than tshark, <= 100 MB peak, flat in size.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
METHODS = [
    "flickr.photos.getInfo",
    "flickr.photos.getSizes",
    "flickr.people.getInfo",
    "flickr.photos.search",
    "flickr.photosets.getPhotos",
    "flickr.groups.pools.getPhotos",
]
EXCHANGES_PER_CONNECTION = 50
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")

_record = struct.Struct("<IIII")
_ip = struct.Struct("!BBHHHBBH4s4s")
_tcp = struct.Struct("!HHIIBBHHH")


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class PcapWriter:
    """Ethernet/IPv4/TCP packets straight into a pcap file (little-endian, microseconds)."""

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.time = 1_700_000_000.0
        self.ident = 0

    def packet(self, src: tuple[bytes, int], dst: tuple[bytes, int], seq: int, ack: int,
               flags: int, payload: bytes = b"") -> None:
        self.ident = (self.ident + 1) & 0xFFFF
        total = 40 + len(payload)
        ip = _ip.pack(0x45, 0, total, self.ident, 0x4000, 64, 6, 0, src[0], dst[0])
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        tcp = _tcp.pack(src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                        65535, 0, 0)
        ethernet = (SERVER_MAC + CLIENT_MAC if src[1] != 80 else CLIENT_MAC + SERVER_MAC)
        frame = ethernet + b"\x08\x00" + ip + tcp + payload
        self.time += 0.0002
        seconds = int(self.time)
        micros = int((self.time - seconds) * 1_000_000)
        self.handle.write(_record.pack(seconds, micros, len(frame), len(frame)))
        self.handle.write(frame)

    def close(self) -> None:
        self.handle.close()


def _response_body(rng: random.Random, method: str, size: int) -> bytes:
    photos = []
    body = b""
    while True:
        photo_id = rng.randrange(10**10, 10**11)
        photos.append({"id": str(photo_id), "owner": f"{rng.randrange(10**8)}@N0{rng.randrange(9)}",
                       "secret": f"{rng.getrandbits(40):010x}", "server": str(rng.randrange(9999)),
                       "farm": rng.randrange(1, 9), "title": "photo " * rng.randrange(1, 5),
                       "ispublic": 1, "isfriend": 0, "isfamily": 0})
        body = json.dumps({"photos": {"page": 1, "perpage": len(photos), "photo": photos},
                           "stat": "ok", "method": method}).encode()
        if len(body) >= size:
            return body


def generate(path: Path, exchanges: int, mss: int, seed: int = 7) -> Path:
    """A capture of `exchanges` Flickr-style calls, EXCHANGES_PER_CONNECTION per connection."""
    rng = random.Random(seed)
    bodies = [_response_body(rng, METHODS[i % len(METHODS)], rng.randrange(50, 20_000))
              for i in range(60)]
    bodies += [b'{"stat":"fail","code":1,"message":"Photo %d not found"}' % i for i in range(4)]
    writer = PcapWriter(path)
    server_ip = bytes([10, 0, 0, 2])
    done = 0
    connection = 0
    while done < exchanges:
        connection += 1
        client = (bytes([10, 1, (connection >> 8) & 0xFF, connection & 0xFF]),
                  20000 + connection % 40000)
        server = (server_ip, 80)
        client_seq, server_seq = rng.getrandbits(32), rng.getrandbits(32)
        writer.packet(client, server, client_seq, 0, 0x02)
        writer.packet(server, client, server_seq, client_seq + 1, 0x12)
        client_seq += 1
        server_seq += 1
        writer.packet(client, server, client_seq, server_seq, 0x10)
        for _ in range(min(EXCHANGES_PER_CONNECTION, exchanges - done)):
            method = rng.choice(METHODS)
            request = (
                f"GET /services/rest/?method={method}&photo_id={rng.randrange(10**10)}"
                f"&format=json&nojsoncallback=1&api_key={rng.getrandbits(128):032x} HTTP/1.1\r\n"
                "Host: api.flickr.com\r\nUser-Agent: flickr-bench/1.0\r\n"
                "Accept: application/json\r\nAccept-Encoding: identity\r\n\r\n"
            ).encode()
            writer.packet(client, server, client_seq, server_seq, 0x18, request)
            client_seq += len(request)
            # every response distinct (fresh photo ids and secrets), as in real traffic, so no
            # cache of identical bodies (redaction keeps one) can flatter the numbers
            token = b"%08x" % rng.getrandbits(32)
            body = rng.choice(bodies).replace(b'"secret": "', b'"secret": "' + token).replace(
                b'"id": "', b'"id": "' + token[:4])
            response = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body)
            ) + body
            for offset in range(0, len(response), mss):
                piece = response[offset:offset + mss]
                writer.packet(server, client, server_seq, client_seq, 0x18, piece)
                server_seq += len(piece)
            writer.packet(client, server, client_seq, server_seq, 0x10)
            done += 1
        writer.packet(client, server, client_seq, server_seq, 0x11)
        writer.packet(server, client, server_seq, client_seq + 1, 0x11)
        writer.packet(client, server, client_seq + 1, server_seq + 1, 0x10)
    writer.close()
    return path


Run = tuple[float, float, float, str, str]
# the last run's memory summed over its process tree (see treemem): peak RSS, peak PSS, processes
last_tree: dict[str, float] = {}


def run(command: list[str], stdout: int | None = subprocess.PIPE) -> Run:
    """(wall seconds, CPU seconds, peak resident MB, stdout, stderr) of one child process.

    CPU time (user + system, from the child's rusage, workers included) is reported beside wall
    time because it is much less sensitive to other load on the machine. The peak resident MB
    is the largest single process's (`ru_maxrss`); `last_tree` gets the whole tree's peaks.
    """
    from treemem import TreeMemory

    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out if stdout else subprocess.DEVNULL,
                                   stderr=err)
        sampler = TreeMemory(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout_text, stderr_text = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        sys.exit(f"{command[0]} failed ({process.returncode}): {stderr_text.strip()[-500:]}")
    last_tree.update(rss=sampler.peak_rss_mb, pss=sampler.peak_pss_mb,
                     processes=sampler.most_processes)
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, stdout_text, stderr_text


def ensure_tshark() -> str:
    found = shutil.which("tshark")
    if found:
        return found
    print("tshark is missing: installing it with apt-get", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "tshark"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    found = shutil.which("tshark")
    if not found:
        sys.exit("tshark could not be installed")
    return found


def restscope_command() -> list[str]:
    """The command to time: $RESTSCOPE_BENCH_COMMAND (split on spaces) if set, else restscope."""
    override = os.environ.get("RESTSCOPE_BENCH_COMMAND")
    if override:
        return override.split()
    local = Path(sys.executable).with_name("restscope")
    return [str(local)] if local.exists() else [sys.executable, "-m", "observe"]


_API_KEY = re.compile(r"(api_key=)[^&]*")


def _uris_of_listing(listing: str) -> Counter[str]:
    """The origin-form targets of restscope's listing lines (method, status, URL)."""
    uris: Counter[str] = Counter()
    for line in listing.splitlines():
        url = line.split()[2]
        uris[url[url.index("/", len("http://")):]] += 1
    return uris


def measure(
    size: int, folder: Path, mss: int, tshark: str, extra: list[str]
) -> dict[str, float]:
    capture = generate(folder / f"flickr-{size}.pcap", size, mss)
    output = folder / f"flickr-{size}.jsonl"
    single = folder / f"flickr-{size}-j1.jsonl"
    command = [*restscope_command(), "capture", str(capture), *extra]
    # the listing (what tshark's command prints), by default and in one process
    listed, listed_cpu, listed_peak, listing, stderr = run(command)
    listed_tree = dict(last_tree)
    listed_one, _, _, listing_one, _ = run([*command, "-j", "1"])
    # whole exchanges as JSONL, by default and in one process
    ours, our_cpu, our_peak, _, _ = run([*command, "-o", str(output)], stdout=None)
    tree = dict(last_tree)
    one, one_cpu, one_peak, _, _ = run([*command, "-o", str(single), "-j", "1"], stdout=None)
    same_bytes = filecmp.cmp(output, single, shallow=False) and listing == listing_one
    single.unlink()
    found = re.search(r"^exchanges: (\d+)$", stderr, re.MULTILINE)
    our_count = int(found.group(1)) if found else -1
    with open(output, "rb") as handle:
        lines = sum(1 for _ in handle)
    theirs, their_cpu, their_peak, their_listing, _ = run(
        [tshark, "-r", str(capture), "-Y", "http", "-T", "fields", "-e", "http.request.uri",
         "-e", "http.response.code"]
    )
    rows = [line.split("\t") for line in their_listing.splitlines()]
    their_count = sum(1 for row in rows if len(row) > 1 and row[1] and row[1] != "100")
    their_uris = Counter(_API_KEY.sub(r"\1REDACTED", row[0]) for row in rows if row[0])
    same_uris = their_uris == _uris_of_listing(listing)
    print(f"\n{size} exchanges, {capture.stat().st_size / 1e6:.1f} MB pcap, mss {mss}")
    print(f"  restscope listing:      {listed:6.2f} s wall {listed_cpu:6.2f} s CPU  peak "
          f"{listed_peak:6.1f} MB (largest process; {int(listed_tree['processes'])} processes: "
          f"{listed_tree['pss']:.1f} MB PSS summed)  lines {len(listing.splitlines())}")
    print(f"  restscope listing -j 1: {listed_one:6.2f} s wall")
    print(f"  restscope JSONL:        {ours:6.2f} s wall {our_cpu:6.2f} s CPU  peak "
          f"{our_peak:6.1f} MB (largest process; {int(tree['processes'])} processes: "
          f"{tree['rss']:.1f} MB RSS, {tree['pss']:.1f} MB PSS summed)  exchanges {our_count} "
          f"(output lines {lines})")
    print(f"  restscope JSONL -j 1:   {one:6.2f} s wall {one_cpu:6.2f} s CPU  peak "
          f"{one_peak:6.1f} MB  same output as the default: {'yes' if same_bytes else 'NO'}")
    print(f"  tshark:                 {theirs:6.2f} s wall {their_cpu:6.2f} s CPU  peak "
          f"{their_peak:6.1f} MB  exchanges {their_count} (requests {sum(their_uris.values())})")
    same = our_count == their_count == size == lines and same_bytes and same_uris
    print(f"  same exchanges: {'yes' if same else 'NO'} (URIs {'equal' if same_uris else 'DIFFER'})"
          f"; restscope is {theirs / listed:.1f}x faster listing (-j 1: "
          f"{theirs / listed_one:.1f}x), {theirs / ours:.1f}x writing JSONL (-j 1: "
          f"{theirs / one:.1f}x)")
    return {"size": size, "listed": listed, "listed_cpu": listed_cpu,
            "listed_peak": listed_peak, "listed_pss": listed_tree["pss"],
            "listed_one": listed_one, "ours": ours, "our_cpu": our_cpu, "our_peak": our_peak,
            "our_tree_pss": tree["pss"], "our_tree_rss": tree["rss"], "one": one,
            "theirs": theirs, "their_cpu": their_cpu, "their_peak": their_peak,
            "same": float(same)}


def profile(size: int, folder: Path, mss: int) -> None:
    """cProfile of `capture --no-redact -o OUT.jsonl` in-process: the reader (link layer,
    tracker, HTTP) and the JSONL writer, without interpreter start-up and plugins."""
    import cProfile
    import pstats

    from observe.capture import pcap_source
    from observe.formats.jsonl import write_jsonl
    from observe.sources import ReadOptions
    from observe.tally import Tally

    capture = generate(folder / f"flickr-{size}.pcap", size, mss)
    profiler = cProfile.Profile()
    tally = Tally()
    with open(folder / f"flickr-{size}.jsonl", "w", encoding="utf-8", newline="\n") as out:
        profiler.enable()
        count = write_jsonl(pcap_source.read(capture, ReadOptions(), tally), out)
        profiler.disable()
    print(f"{count} exchanges; tally {tally.to_dict()}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--mss", type=int, default=1448,
                        help="TCP payload per segment (1448 Ethernet, 65483 loopback)")
    parser.add_argument("--no-redact", action="store_true",
                        help="time `restscope capture --no-redact` (without the redaction plugin)")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument("--profile", type=int, metavar="SIZE",
                        help="profile restscope in-process on SIZE exchanges instead")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="restscope-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if args.profile:
            profile(args.profile, folder, args.mss)
            return
        tshark = ensure_tshark()
        extra = ["--no-redact"] if args.no_redact else []
        # bytecode for the project's modules, as `make install` leaves it (an editable install
        # keeps sources; with PYTHONDONTWRITEBYTECODE every run would recompile them)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "observe", "plugins", "specs",
                        "tapes"], cwd=REPO, check=True)
        results = [measure(size, folder, args.mss, tshark, extra) for size in args.sizes]
        print("\n  size | listing wall  -j 1   MB  PSS-sum | JSONL wall  -j 1  PSS-sum |"
              " tshark wall     MB | ratio listing  -j 1 | JSONL  -j 1")
        for r in results:
            print(f"{int(r['size']):>6} | {r['listed']:12.2f} {r['listed_one']:5.2f} "
                  f"{r['listed_peak']:4.1f} {r['listed_pss']:8.1f} | {r['ours']:10.2f} "
                  f"{r['one']:5.2f} {r['our_tree_pss']:8.1f} | {r['theirs']:11.2f} "
                  f"{r['their_peak']:6.1f} | {r['theirs'] / r['listed']:12.1f}x "
                  f"{r['theirs'] / r['listed_one']:4.1f}x | {r['theirs'] / r['ours']:4.1f}x "
                  f"{r['theirs'] / r['one']:4.1f}x")
        last = results[-1]
        print(f"targets: >= 20x faster than tshark's URI/status listing: "
              f"{last['theirs'] / last['listed']:.1f}x (-j 1: "
              f"{last['theirs'] / last['listed_one']:.1f}x; writing whole exchanges as JSONL: "
              f"{last['theirs'] / last['ours']:.1f}x); <= 100 MB peak (listing "
              f"{last['listed_pss']:.1f} MB, JSONL {last['our_tree_pss']:.1f} MB PSS of all "
              f"processes; largest process {max(last['listed_peak'], last['our_peak']):.1f} MB); "
              f"flat ({results[0]['listed_pss']:.1f} -> {last['listed_pss']:.1f} and "
              f"{results[0]['our_tree_pss']:.1f} -> {last['our_tree_pss']:.1f} MB PSS)")
        if not all(r["same"] for r in results):
            sys.exit("restscope and tshark disagree on the number of exchanges")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
