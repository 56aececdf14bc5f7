"""Benchmark `restscope specs infer` against mitmproxy2swagger on the same Flickr-style HAR.

    .venv/bin/python bench/infer.py                    # 2,000 and 20,000 exchanges
    .venv/bin/python bench/infer.py --sizes 20000 --keep /tmp/bench
    .venv/bin/python bench/infer.py --skip-m2s          # restscope only
    .venv/bin/python bench/infer.py --summary-stage FILE.har   # in-process: summarising only
    .venv/bin/python bench/infer.py --stages FILE.har  # in-process: each stage, and a floor

For each size it writes a HAR of Flickr RPC calls (`GET /services/rest/?method=flickr.…`,
JSON answers of 0.3-6 KB: photos.getInfo, people.getInfo, photos.search, photos.getSizes,
photosets.getPhotos; ~2% `stat=fail` errors; a seeded datetime-vs-free-text drift), then runs,
one after the other, each as a child process:

    restscope specs infer FILE --plugin flickr -j 1 -o OUT.yaml --drift-report json
    mitmproxy2swagger -i FILE -f har -p https://api.flickr.com -o M2S.yaml    (pass 1)
    (every `ignore:` path template enabled, as its README says to do by hand)
    mitmproxy2swagger -i FILE -f har -p https://api.flickr.com -o M2S.yaml    (pass 2)

and prints wall and CPU time, peak RSS (the child's ru_maxrss from `os.wait4`), exchanges per
second, the paths each found and the speed ratio. mitmproxy2swagger is installed with pip into
its own virtualenv (~/.cache/restscope-bench/m2s-venv) the first time.
Targets (issue 4, acceptance 8): >= 20x faster, >= 20,000 exchanges/s per core, flat memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
M2S_VENV = Path.home() / ".cache" / "restscope-bench" / "m2s-venv"
M2S_VERSION = "0.14.0"
METHODS = ["flickr.photos.getInfo", "flickr.people.getInfo", "flickr.photos.search",
           "flickr.photos.getSizes", "flickr.photosets.getPhotos"]
WORDS = ["sunset", "beach", "kitten", "tokyo", "mountain", "river", "night", "bridge",
         "street", "portrait"]


READER_ONLY = (
    "import sys\nfrom observe.sources import read_source\n"
    "print(sum(1 for _ in read_source(sys.argv[1])))\n"
)


def _nsid(rng: random.Random) -> str:
    return f"{rng.randint(10_000_000, 199_999_999)}@N0{rng.randint(0, 8)}"


def _photo(rng: random.Random, i: int) -> dict[str, Any]:
    return {"id": str(50_000_000_000 + rng.randint(0, 10**9)), "owner": _nsid(rng),
            "secret": f"{rng.getrandbits(40):010x}", "server": str(rng.randint(1000, 65535)),
            "farm": rng.randint(1, 66), "title": " ".join(rng.sample(WORDS, 2)),
            "ispublic": 1, "isfriend": 0, "isfamily": 0,
            "dateupload": str(1_400_000_000 + i * 37)}


def _answer(method: str, rng: random.Random, i: int) -> dict[str, Any]:
    if rng.random() < 0.02:
        return {"stat": "fail", "code": 1, "message": "Photo not found"}
    if method == "flickr.photos.getInfo":
        taken = "2014-05-06 12:34:56" if rng.random() > 0.01 else "circa 1970"
        return {"photo": {"id": str(50_000_000_000 + i), "secret": f"{rng.getrandbits(40):010x}",
                          "dateuploaded": str(1_400_000_000 + i * 37), "views": str(i % 997),
                          "owner": {"nsid": _nsid(rng), "username": rng.choice(WORDS),
                                    "location": "", "iconserver": str(rng.randint(1, 9999))},
                          "title": {"_content": " ".join(rng.sample(WORDS, 3))},
                          "dates": {"posted": str(1_400_000_000 + i), "taken": taken,
                                    "takengranularity": 0, "lastupdate": str(1_500_000_000 + i)},
                          "tags": {"tag": [{"id": f"{rng.getrandbits(32):x}", "raw": w,
                                            "author": _nsid(rng)} for w in rng.sample(WORDS, 3)]},
                          "urls": {"url": [{"type": "photopage", "_content":
                                            f"https://www.flickr.com/photos/x/{i}/"}]}},
                "stat": "ok"}
    if method == "flickr.people.getInfo":
        return {"person": {"id": _nsid(rng), "nsid": _nsid(rng), "ispro": rng.randint(0, 1),
                           "username": {"_content": rng.choice(WORDS)},
                           "photos": {"firstdate": {"_content": str(1_100_000_000 + i)},
                                      "firstdatetaken": {"_content": "2004-02-06 16:43:25"},
                                      "count": {"_content": rng.randint(0, 5000)}}},
                "stat": "ok"}
    if method == "flickr.photos.getSizes":
        return {"sizes": {"canblog": 0, "size": [
            {"label": label, "width": w, "height": w * 3 // 4,
             "source": f"https://live.staticflickr.com/{i}/{i}_b.jpg", "media": "photo"}
            for label, w in (("Square", 75), ("Small", 240), ("Medium", 500), ("Large", 1024))]},
            "stat": "ok"}
    photos = [_photo(rng, i) for _ in range(rng.randint(2, 12))]
    key = "photoset" if method == "flickr.photosets.getPhotos" else "photos"
    return {key: {"page": 1, "pages": rng.randint(1, 50), "perpage": 100, "total": 4000,
                  "photo": photos}, "stat": "ok"}


def _entry(rng: random.Random, i: int) -> dict[str, Any]:
    method = METHODS[i % len(METHODS)]
    arg = ("user_id=" + _nsid(rng).replace("@", "%40")) if "people" in method else \
        f"photo_id={50_000_000_000 + i}"
    url = (f"https://api.flickr.com/services/rest/?method={method}&{arg}"
           "&api_key=0123456789abcdef0123456789abcdef&format=json&nojsoncallback=1")
    text = json.dumps(_answer(method, rng, i), separators=(",", ":"))
    stamp = f"2024-01-01T00:{(i // 60) % 60:02d}:{i % 60:02d}.000Z"
    return {
        "startedDateTime": stamp, "time": 12.5,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Host", "value": "api.flickr.com"},
                                {"name": "User-Agent", "value": "bench/1.0"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                     "headers": [{"name": "Content-Type",
                                  "value": "application/json; charset=utf-8"},
                                 {"name": "Content-Length", "value": str(len(text))}],
                     "cookies": [], "content": {"size": len(text),
                                                "mimeType": "application/json; charset=utf-8",
                                                "text": text},
                     "redirectURL": "", "headersSize": -1, "bodySize": len(text)},
        "cache": {}, "timings": {"send": 0.5, "wait": 11, "receive": 1},
    }


def write_har(path: Path, count: int, seed: int = 4) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"log":{"version":"1.2","creator":{"name":"bench","version":"1"},'
                     '"entries":[')
        for i in range(count):
            if i:
                handle.write(",")
            handle.write(json.dumps(_entry(rng, i), separators=(",", ":")))
        handle.write("]}}\n")


def run_child(command: list[str]) -> dict[str, Any]:
    """Run a child and collect its own rusage with os.wait4 (not a cumulative number)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode:
        sys.stderr.write(stderr[-2000:])
        raise SystemExit(f"{command[0]} failed with exit code {process.returncode}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "out": stdout, "err": stderr}


def ensure_m2s() -> Path:
    binary = M2S_VENV / "bin" / "mitmproxy2swagger"
    if not binary.exists():
        print(f"installing mitmproxy2swagger {M2S_VERSION} into {M2S_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(M2S_VENV)], check=True)
        subprocess.run([str(M2S_VENV / "bin" / "pip"), "install", "-q",
                        f"mitmproxy2swagger=={M2S_VERSION}"], check=True)
    return binary


def restscope_command() -> list[str]:
    override = os.environ.get("RESTSCOPE_BENCH_COMMAND")
    if override:
        return override.split()
    return [str(REPO / ".venv" / "bin" / "restscope")]


def compile_project() -> None:
    """Bytecode for the project's modules, as `make install` leaves it: an editable install
    keeps them as sources, and with PYTHONDONTWRITEBYTECODE every run would recompile them."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "observe", "plugins", "specs",
                    "tapes"], cwd=REPO, check=True)


def bench_size(size: int, folder: Path, skip_m2s: bool) -> dict[str, Any]:
    har = folder / f"flickr-{size}.har"
    started = time.perf_counter()
    write_har(har, size)
    print(f"\n== {size:,} exchanges: {har} ({har.stat().st_size / 1e6:.1f} MB, "
          f"written in {time.perf_counter() - started:.1f} s)")
    spec = folder / f"restscope-{size}.yaml"
    ours = run_child([*restscope_command(), "specs", "infer", str(har), "--plugin", "flickr",
                      "-j", "1", "-o", str(spec), "--drift-report", "json"])
    paths = len(re.findall(r"^  /", spec.read_text(), re.M))
    drifts = len(json.loads(ours["out"][ours["out"].index("["):]))
    print(f"restscope specs infer -j 1: {ours['wall']:6.2f} s wall, {ours['cpu']:6.2f} s CPU, "
          f"{ours['rss_mb']:6.1f} MB peak, {size / ours['wall']:8,.0f} exchanges/s "
          f"({size / ours['cpu']:,.0f}/CPU-s), {paths} paths, {drifts} drift(s)")
    result: dict[str, Any] = {"size": size, "restscope": ours, "paths": paths}
    parallel = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if cores > 1:
        spec_all = folder / f"restscope-{size}-j{cores}.yaml"
        parallel = run_child([*restscope_command(), "specs", "infer", str(har), "--plugin",
                              "flickr", "-j", str(cores), "-o", str(spec_all)])
        same = spec_all.read_bytes() == spec.read_bytes()
        print(f"restscope specs infer -j {cores}: {parallel['wall']:6.2f} s wall, "
              f"{parallel['cpu']:6.2f} s CPU, "
              f"{size / parallel['wall']:8,.0f} exchanges/s, same bytes as -j 1: {same}")
    reader = run_child([sys.executable, "-c", READER_ONLY, str(har)])
    print(f"HAR reader alone (no plugins, no specs): {reader['wall']:6.2f} s wall, "
          f"{reader['cpu']:6.2f} s CPU, {reader['rss_mb']:6.1f} MB peak")
    if skip_m2s:
        return result
    binary = ensure_m2s()
    m2s_spec = folder / f"m2s-{size}.yaml"
    m2s_spec.unlink(missing_ok=True)
    command = [str(binary), "-i", str(har), "-f", "har", "-p", "https://api.flickr.com",
               "-o", str(m2s_spec)]
    first = run_child(command)
    text = m2s_spec.read_text()
    m2s_spec.write_text(text.replace("- ignore:", "- "))
    second = run_child(command)
    m2s_paths = len(re.findall(r"^  /", m2s_spec.read_text(), re.M))
    total = first["wall"] + second["wall"]
    peak = max(first["rss_mb"], second["rss_mb"])
    print(f"mitmproxy2swagger pass 1:   {first['wall']:6.2f} s wall, {first['cpu']:6.2f} s CPU, "
          f"{first['rss_mb']:6.1f} MB peak")
    print(f"mitmproxy2swagger pass 2:   {second['wall']:6.2f} s wall, {second['cpu']:6.2f} s CPU,"
          f" {second['rss_mb']:6.1f} MB peak, {m2s_paths} paths")
    if parallel is not None:
        print(f"ratio (m2s both passes / restscope -j {cores}, the default): "
              f"{total / parallel['wall']:.1f}x wall")
    print(f"ratio (m2s both passes / restscope -j 1): {total / ours['wall']:.1f}x wall, "
          f"{(first['cpu'] + second['cpu']) / ours['cpu']:.1f}x CPU; peak memory "
          f"{ours['rss_mb']:.1f} MB vs {peak:.1f} MB")
    result.update(m2s_wall=total, m2s_peak=peak)
    return result


def summary_stage(har: Path, rounds: int) -> None:
    """Time `ApiSummary.add` alone, in-process: the HAR is read and run through the flickr
    plugin chain (with redaction, as `specs infer --plugin flickr` does) once into a list,
    bodies are parsed up front (JSON parsing is the reader's and plugins' cost), the cyclic GC
    is told to skip that list (`gc.freeze`), and each round folds the whole list into a fresh
    summary (including the final fold of queued values); CPU time per exchange, best round."""
    import gc

    from observe.pipeline import PluginChain
    from observe.sources import read_source
    from observe.tally import Tally
    from specs.summary import ApiSummary, body_value

    tally = Tally()
    chain = PluginChain.build(["flickr"], tally, redact=True)
    exchanges = [out for out in map(chain.apply, read_source(har, None, tally))
                 if out is not None]
    for exchange in exchanges:
        body_value(exchange.request)
        if exchange.response is not None:
            body_value(exchange.response)
    gc.collect()
    gc.freeze()
    locations = [f"{har.name}#{i:09d}" for i in range(len(exchanges))]
    times = []
    for _ in range(rounds):
        summary = ApiSummary()
        started = time.process_time()
        for exchange, location in zip(exchanges, locations, strict=True):
            summary.add(exchange, location)
        summary.flush()
        times.append(time.process_time() - started)
    per = [1e6 * t / len(exchanges) for t in times]
    print(f"summary adds over {len(exchanges):,} exchanges: best {min(per):.1f} us/exchange, "
          f"rounds {', '.join(f'{p:.1f}' for p in per)}")


def stages(har: Path) -> None:
    """CPU time per exchange of each stage of `specs infer --plugin flickr`, in-process and one
    after the other on the same exchanges: reading the HAR into exchanges, the flickr plugin,
    redaction, summarising. Beside them, a floor no reader of this HAR can go under in Python:
    parsing the whole file with orjson, nothing else. 20,000 exchanges/s per core is 50 us."""
    import orjson

    from observe.pipeline import PluginChain
    from observe.sources import read_source
    from observe.tally import Tally
    from specs.summary import ApiSummary

    def timed(label: str, work: Any, count: int) -> Any:
        started = time.process_time()
        result = work()
        spent = time.process_time() - started
        print(f"  {label:<34} {1e6 * spent / count:7.1f} us/exchange")
        return result

    tally = Tally()
    raw = har.read_bytes()
    count = len(orjson.loads(raw)["log"]["entries"])
    print(f"{har.name}: {count:,} entries, {len(raw) / 1e6:.1f} MB")
    timed("floor: orjson.loads of the file", lambda: orjson.loads(raw), count)
    exchanges = timed("read into exchanges", lambda: list(read_source(har, None, tally)), count)
    flickr = PluginChain.build(["flickr"], tally, redact=False)
    rewritten = timed("flickr plugin", lambda: [flickr.apply(e) for e in exchanges], count)
    redact = PluginChain.build([], tally, redact=True)
    redacted = timed("redaction", lambda: [redact.apply(e) for e in rewritten if e], count)

    def summarise() -> ApiSummary:
        summary = ApiSummary()
        for index, exchange in enumerate(redacted):
            if exchange is not None:
                summary.add(exchange, f"{har.name}#{index:09d}")
        summary.flush()
        return summary

    timed("summarising", summarise, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--keep", type=Path, help="Keep the generated files in this folder.")
    parser.add_argument("--skip-m2s", action="store_true", help="Time restscope only.")
    parser.add_argument("--summary-stage", type=Path, metavar="HAR",
                        help="Only time the summarising stage in-process on this HAR.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds for --summary-stage.")
    parser.add_argument("--stages", type=Path, metavar="HAR",
                        help="Only time each stage in-process on this HAR (and a floor).")
    args = parser.parse_args()
    if args.stages:
        stages(args.stages)
        return
    if args.summary_stage:
        summary_stage(args.summary_stage, args.rounds)
        return
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        compile_project()
        results = [bench_size(size, folder, args.skip_m2s) for size in args.sizes]
    if len(results) > 1:
        first, last = results[0]["restscope"], results[-1]["restscope"]
        print(f"\nrestscope peak memory {results[0]['size']:,} -> {results[-1]['size']:,} "
              f"exchanges: {first['rss_mb']:.1f} MB -> {last['rss_mb']:.1f} MB")


if __name__ == "__main__":
    main()
