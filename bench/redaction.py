"""Time `Redactor().redact` on Flickr-style exchanges (the cost redaction adds to every command).

    .venv/bin/python bench/redaction.py                  # 20,000 exchanges, each case
    .venv/bin/python bench/redaction.py --profile        # cProfile of the main case
    .venv/bin/python bench/redaction.py --reference      # the reference (parse/walk) path only
    .venv/bin/python bench/redaction.py --pure           # the fast path without the C scan
    .venv/bin/python bench/redaction.py --source /tmp/pb/c20k.pcap
    .venv/bin/python bench/redaction.py --source /tmp/pb/f20k.har --plugin flickr

Cases (each prints microseconds per exchange, CPU time, best of --repeat runs):
- flickr:   GET /services/rest/?method=...&api_key=... and a JSON answer of 50 B - 20 KB whose
            photos each carry a `secret` (what `bench/capture.py` generates: 64 distinct
            answers, so the redactor's memo of body outcomes serves most of them);
- distinct: the same, but every answer is different (nothing comes from the memo);
- plain:    the same answers without `secret` keys and without api_key (nothing to redact);
- header:   api_key moved to an Authorization header (what `--plugin flickr` leaves).
--source:   the exchanges of a capture file (after `--plugin`s, as `specs infer` runs them).

Each round gets new body bytes objects (as readers make them) and messages without cached
derived values, except that with --source the plugins' cached JSON parse is kept, as in the
real pipeline.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from observe.exchange import Exchange, Message, Request, Response
from observe.headers import Headers
from plugins.redaction import Redactor

METHODS = ["flickr.photos.getInfo", "flickr.photos.search", "flickr.people.getInfo",
           "flickr.photosets.getPhotos"]


def _body(rng: random.Random, method: str, size: int, secret: bool) -> bytes:
    photos: list[dict[str, object]] = []
    while True:
        photo: dict[str, object] = {
            "id": str(rng.randrange(10**10, 10**11)),
            "owner": f"{rng.randrange(10**8)}@N0{rng.randrange(9)}",
            "server": str(rng.randrange(9999)), "farm": rng.randrange(1, 9),
            "title": "photo " * rng.randrange(1, 5), "ispublic": 1, "isfriend": 0,
            "isfamily": 0}
        if secret:
            photo["secret"] = f"{rng.getrandbits(40):010x}"
        photos.append(photo)
        body = json.dumps({"photos": {"page": 1, "perpage": len(photos), "photo": photos},
                           "stat": "ok", "method": method}).encode()
        if len(body) >= size:
            return body


def exchanges(count: int, case: str, seed: int = 7) -> list[Exchange]:
    rng = random.Random(seed)
    bodies = [_body(rng, METHODS[i % len(METHODS)], rng.randrange(50, 20_000), case != "plain")
              for i in range(60)]
    bodies += [b'{"stat":"fail","code":1,"message":"Photo %d not found"}' % i for i in range(4)]
    if case == "distinct":  # every answer different: a photo id changed in each copy
        bodies = [body.replace(b'"id": "', b'"id": "%d' % index, 1)
                  for index, body in enumerate(bodies * (count // len(bodies) + 1))]
        rng.shuffle(bodies)
    out = []
    for index in range(count):
        method = rng.choice(METHODS)
        target = f"/services/rest/?method={method}&photo_id={rng.randrange(10**10)}" \
                 "&format=json&nojsoncallback=1"
        headers = [("Host", "api.flickr.com"), ("User-Agent", "flickr-bench/1.0"),
                   ("Accept", "application/json")]
        key = f"{rng.getrandbits(128):032x}"
        if case in ("flickr", "distinct"):
            target += f"&api_key={key}"
        elif case == "header":
            headers.append(("Authorization", f"FlickrApiKey {key}"))
        body = bodies[index] if case == "distinct" else rng.choice(bodies)
        request = Request(headers=Headers(headers), method="GET", scheme="http",
                          authority="api.flickr.com", target=target)
        response = Response(headers=Headers([
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Connection", "keep-alive")]),
            body=body, status=200, reason="OK")
        out.append(Exchange(request=request, response=response).with_meta(index=index))
    return out


def _fresh(message: Message, keep_parse: bool) -> Message:
    """A copy with a new body bytes object (its hash not computed yet, as a reader makes it);
    without derived values cached on it unless `keep_parse` (then sharing the original's)."""
    copy = message.evolve(body=bytes(bytearray(message.body)))
    if keep_parse:  # what the pipeline's plugins leave cached (a private detail, bench only)
        copy._cache.values.update(message._cache.values)
    return copy


def timed(run: Callable[[Exchange], Exchange], items: list[Exchange], repeat: int,
          keep_parse: bool = False) -> float:
    best = float("inf")
    for _ in range(repeat):
        fresh = [item.evolve(request=_fresh(item.request, keep_parse),
                             response=item.response and _fresh(item.response, keep_parse))
                 for item in items]
        start = time.process_time()
        for item in fresh:
            run(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def source_exchanges(path: str, plugins: list[str], count: int) -> list[Exchange]:
    """The first `count` exchanges of a capture file after `plugins` (redaction left out),
    with whatever the plugins left cached on them (a parsed JSON body, say)."""
    from observe.pipeline import PluginChain
    from observe.sources import read_source
    from observe.tally import Tally

    tally = Tally()
    chain = PluginChain.build(plugins, tally, redact=False)
    out = []
    for exchange in read_source(path, None, tally):
        result = chain.apply(exchange)
        if result is not None:
            out.append(result)
            if len(out) >= count:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--reference", action="store_true", help="time the reference path")
    parser.add_argument("--pure", action="store_true",
                        help="without the C scan (plugins._jsonscan): the pure-Python path")
    parser.add_argument("--source", help="time the exchanges of this capture file instead")
    parser.add_argument("--plugin", action="append", default=[], help="with --source")
    args = parser.parse_args()
    redactor = Redactor()
    if args.pure:
        redactor._bodies.native = False
    run = getattr(redactor, "redact_reference", redactor.redact) if args.reference \
        else redactor.redact
    if args.source:
        items = source_exchanges(args.source, args.plugin, args.count)
        size = sum(len(i.response.body) for i in items if i.response) / len(items)
        print(f"{Path(args.source).name} {len(items)} exchanges, mean body {size:,.0f} B: "
              f"{timed(run, items, args.repeat, keep_parse=True):8.1f} us/exchange")
        return
    if args.profile:
        items = exchanges(args.count, "flickr")
        profiler = cProfile.Profile()
        profiler.enable()
        for item in items:
            run(item)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return
    for case in ("flickr", "distinct", "plain", "header"):
        items = exchanges(args.count, case)
        size = sum(len(i.response.body) for i in items if i.response) / len(items)
        print(f"{case:7} {len(items)} exchanges, mean body {size:,.0f} B: "
              f"{timed(run, items, args.repeat):8.1f} us/exchange")


if __name__ == "__main__":
    main()
