"""Replay throughput: `restscope tapes serve` against yakbak and talkback, driven by wrk.

Usage: .venv/bin/python bench/replay.py [--requests 1200] [--duration 10] [--connections 16]

What it does, in one run:
1. installs yakbak and talkback from npm into a bench-local folder (bench/.replay-tools), and
   wrk from Debian (apt-get) when it is missing;
2. starts a local Flickr-style upstream on 127.0.0.1 (JSON bodies of about 4.7 KB);
3. for each tool: records the same N distinct Flickr-style requests through it (with exactly
   the request wrk will send, since yakbak hashes every header), restarts it replay-only,
   checks every request replays (200), then runs `wrk -t2 -c16 -d10s --latency` with a Lua
   script cycling through the request list (restscope twice: one process, and two worker
   processes sharing the socket with `--workers 2`);
4. prints requests/s, p50 and p99 latency and non-2xx counts side by side, and the ratio
   against yakbak (target: >= 1.5x yakbak's requests/s with a p99 no worse).

Nothing here leaves 127.0.0.1. Tapes go to bench/.replay-tools/tape-folders (recreated each run).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".replay-tools"
PORTS = {"yakbak": 47101, "talkback": 47102, "restscope": 47103, "restscope-2w": 47104}
API_KEY = "0123456789abcdef0123456789abcdef"
METHODS = ["flickr.photos.search", "flickr.photos.getInfo", "flickr.people.getInfo",
           "flickr.photosets.getList", "flickr.groups.getInfo", "flickr.photos.getSizes"]
WORDS = ["cats", "dogs", "elephants", "sunset", "bridge", "forest", "harbour", "mountain",
         "street", "river", "snow", "desert", "market", "tower", "garden", "lake"]

YAKBAK_JS = """
const http = require('http');
const yakbak = require('yakbak');
const [upstream, dir, port, mode] = process.argv.slice(2);
const handler = yakbak(upstream, {dirname: dir, noRecord: mode === 'replay'});
http.createServer(handler).listen(Number(port), '127.0.0.1', () => console.log('ready'));
"""
TALKBACK_JS = """
const talkback = require('talkback');
const [upstream, dir, port, mode] = process.argv.slice(2);
const RecordMode = talkback.Options.RecordMode;
const server = talkback({host: upstream, path: dir, port: Number(port), silent: true,
  summary: false, record: mode === 'replay' ? RecordMode.DISABLED : RecordMode.NEW});
server.start(() => console.log('ready'));
"""
WRK_LUA = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


# -- the recorded set --------------------------------------------------------------------------
def flickr_paths(count: int) -> list[str]:
    """`count` distinct Flickr-style REST calls (deterministic)."""
    rng = random.Random(1943)
    paths: list[str] = []
    seen: set[str] = set()
    while len(paths) < count:
        method = rng.choice(METHODS)
        if method == "flickr.photos.search":
            params = f"text={rng.choice(WORDS)}&page={rng.randint(1, 40)}&per_page=20"
        elif method in ("flickr.people.getInfo", "flickr.photosets.getList"):
            params = f"user_id={rng.randint(10_000, 99_999)}@N0{rng.randint(0, 9)}"
        elif method == "flickr.groups.getInfo":
            params = f"group_id={rng.randint(1000, 999_999)}"
        else:
            params = f"photo_id={rng.randint(10**10, 10**11)}"
        path = (f"/services/rest/?method={method}&{params}&api_key={API_KEY}"
                "&format=json&nojsoncallback=1")
        if path not in seen:
            seen.add(path)
            paths.append(path)
    return paths


def flickr_body(path: str) -> bytes:
    """A Flickr-style JSON answer of about 4.7 KB, derived from the path."""
    rng = random.Random(hashlib.sha256(path.encode()).hexdigest())
    photos = [{
        "id": str(rng.randint(10**10, 10**11)), "owner": f"{rng.randint(10**4, 10**5)}@N0{i % 9}",
        "secret": f"{rng.getrandbits(40):010x}", "server": str(rng.randint(1000, 9999)),
        "farm": rng.randint(1, 9), "title": " ".join(rng.choice(WORDS) for _ in range(3)),
        "ispublic": 1, "isfriend": 0, "isfamily": 0,
        "url_s": f"https:\\/\\/live.staticflickr.com\\/{rng.randint(1000, 9999)}\\/x_s.jpg",
    } for i in range(rng.randint(16, 24))]
    document = {"photos": {"page": 1, "pages": 40, "perpage": 20, "total": "800",
                           "photo": photos}, "stat": "ok"}
    return json.dumps(document, separators=(",", ":")).encode()


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = flickr_body(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# -- tools -----------------------------------------------------------------------------------
def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def install_tools() -> None:
    if shutil.which("wrk") is None:
        print("installing wrk from Debian (apt-get)", file=sys.stderr)
        run(["apt-get", "install", "-y", "wrk"])
    WORK.mkdir(parents=True, exist_ok=True)
    if not (WORK / "node_modules" / "yakbak").is_dir() or \
            not (WORK / "node_modules" / "talkback").is_dir():
        print("installing yakbak and talkback from npm", file=sys.stderr)
        run(["npm", "install", "--no-audit", "--no-fund", "--silent", "yakbak@5", "talkback@4"],
            cwd=WORK)
    (WORK / "yakbak-server.js").write_text(YAKBAK_JS, encoding="utf-8")
    (WORK / "talkback-server.js").write_text(TALKBACK_JS, encoding="utf-8")
    (WORK / "cycle.lua").write_text(WRK_LUA, encoding="utf-8")


def tool_command(tool: str, upstream: str, tapes: Path, mode: str) -> list[str]:
    port = str(PORTS[tool])
    if tool.startswith("restscope"):
        workers = "2" if tool == "restscope-2w" and mode == "replay" else "1"
        return [sys.executable, "-m", "observe", "tapes", "serve", "--upstream", upstream,
                "--tapes", str(tapes), "--listen", f"127.0.0.1:{port}", "--mode", mode,
                "--workers", workers]
    script = WORK / f"{tool}-server.js"
    return ["node", str(script), upstream, str(tapes), port, mode]


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start(tool: str, upstream: str, tapes: Path, mode: str) -> subprocess.Popen[bytes]:
    # node finds its modules from WORK; restscope runs from the repository
    cwd = REPO if tool.startswith("restscope") else WORK
    process = subprocess.Popen(tool_command(tool, upstream, tapes, mode), cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(PORTS[tool], process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def drive(port: int, paths: list[str]) -> list[int]:
    """Send every path with exactly wrk's headers (Host only) on one keep-alive connection."""
    statuses: list[int] = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in paths:
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        if response.getheader("connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()
    return statuses


def parse_wrk(output: str) -> dict[str, float]:
    def seconds(value: str, unit: str) -> float:
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    result: dict[str, float] = {"rps": 0.0, "p50": 0.0, "p99": 0.0, "non2xx": 0.0,
                                "errors": 0.0, "requests": 0.0}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match:
        result["rps"] = float(match.group(1))
    for name, pct in (("p50", "50"), ("p99", "99")):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if match:
            result[name] = seconds(match.group(1), match.group(2))
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if match:
        result["non2xx"] = float(match.group(1))
    match = re.search(r"(\d+) requests in", output)
    if match:
        result["requests"] = float(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      output)
    if match:
        result["errors"] = float(sum(int(g) for g in match.groups()))
    return result


def bench_tool(tool: str, upstream: str, paths: list[str], args: argparse.Namespace
               ) -> dict[str, float]:
    tapes = WORK / "tape-folders" / tool
    shutil.rmtree(tapes, ignore_errors=True)
    if tool == "restscope-2w" and (WORK / "tape-folders" / "restscope").is_dir():
        # the same tool: replay what the one-process run recorded
        shutil.copytree(WORK / "tape-folders" / "restscope", tapes)
        recorded = [200] * len(paths)
    else:
        tapes.mkdir(parents=True)
        recorder = start(tool, upstream, tapes, "record")
        try:
            recorded = drive(PORTS[tool], paths)
        finally:
            stop(recorder)
    time.sleep(0.5)  # talkback writes tapes asynchronously
    server = start(tool, upstream, tapes, "replay")
    try:
        replayed = drive(PORTS[tool], paths)  # also warms caches
        hits = sum(1 for status in replayed if status == 200)
        env = dict(os.environ, BENCH_PATHS=str(WORK / "paths.txt"))
        output = run(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d",
                      f"{args.duration}s", "--latency", "-s", str(WORK / "cycle.lua"),
                      f"http://127.0.0.1:{PORTS[tool]}"], env=env).stdout
    finally:
        stop(server)
    result = parse_wrk(output)
    result["recorded"] = float(sum(1 for s in recorded if s == 200))
    result["hits"] = float(hits)
    if args.verbose:
        print(output, file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tools", default="yakbak,talkback,restscope,restscope-2w")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    install_tools()
    paths = flickr_paths(args.requests)
    (WORK / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    sizes = [len(flickr_body(p)) for p in paths]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"{len(paths)} distinct Flickr-style requests, bodies {sum(sizes) / len(sizes):.0f} B "
          f"on average; wrk -t{args.threads} -c{args.connections} -d{args.duration}s on "
          f"127.0.0.1, {os.cpu_count()} cores")
    results: dict[str, dict[str, float]] = {}
    for tool in args.tools.split(","):
        print(f"  {tool}: recording, replaying, wrk ...", file=sys.stderr, flush=True)
        results[tool] = bench_tool(tool, upstream, paths, args)
    server.shutdown()
    print(f"{'tool':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
          f"{'errors':>7} {'replayed':>9}")
    for tool, r in results.items():
        print(f"{tool:<10} {r['rps']:>10.0f} {r['p50'] * 1000:>8.2f} {r['p99'] * 1000:>8.2f} "
              f"{r['non2xx']:>8.0f} {r['errors']:>7.0f} {r['hits']:>5.0f}/{len(paths)}")
    if "yakbak" in results and "restscope" in results and results["yakbak"]["rps"]:
        ours, theirs = results["restscope"], results["yakbak"]
        ratio = ours["rps"] / theirs["rps"]
        verdict = "met" if ratio >= 1.5 and ours["p99"] <= theirs["p99"] else "NOT met"
        print(f"restscope / yakbak: {ratio:.2f}x requests/s, p99 {ours['p99'] * 1000:.2f} ms vs "
              f"{theirs['p99'] * 1000:.2f} ms -> target (>= 1.5x, p99 no worse) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
