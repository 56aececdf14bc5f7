"""Summarise traffic files, one worker process per file, and merge the results.

`summarize_sources(paths, kwargs, jobs)` reads every source through the observe pipeline (reader
+ plugin chain, as `observe.cli.process_exchanges` does) and folds each exchange into an
`ApiSummary`. Files that are summary files (`restscope specs summarize` output) are loaded
instead of read. With more jobs than files, a large file is split into shards: every shard's
worker reads the file but runs plugins and summarising only on every n-th exchange (the costly
part), and only shard 0 counts what the reader skipped, so tallies add up as with one worker.

Invariants:
1. The result does not depend on `jobs`, on the order of `paths` or on the folder they are in:
   summaries merge associatively and commutatively, and the location recorded for each value
   is `<file name>#<index>` (zero-padded), whose minimum is order-independent.
2. Tallies add up across workers (`Tally.merge`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from observe.exchange import Exchange
from observe.options import usable_cores
from observe.tally import Tally
from specs.summary import ApiSummary
from specs.summary_file import FORMAT, load_summary


def is_summary_file(path: Path) -> bool:
    if not path.is_file():
        return False
    name = path.name
    if name.endswith((".summary", ".summary.gz")):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head.startswith(b'{"format":"' + FORMAT.encode())


def summarize_exchanges(exchanges: Iterable[Exchange], source: str = "") -> ApiSummary:
    """Fold exchanges into a summary; locations are `source#index`."""
    summary = ApiSummary()
    for position, exchange in enumerate(exchanges):
        index = exchange.origin.index if exchange.origin.index else position
        summary.add(exchange, f"{source}#{index:09d}")
    return summary


Job = tuple[str, dict[str, Any], int, int]  # path, CLI options, shard, shards


def _summarize_file(job: Job) -> tuple[dict[str, Any], Tally]:
    path, kwargs, shard, shards = job
    tally = Tally()
    if is_summary_file(Path(path)):
        return (load_summary(Path(path)).to_dict() if shard == 0 else {}), tally
    if shards == 1:
        from observe.cli import process_exchanges

        summary = summarize_exchanges(process_exchanges([path], kwargs, tally), Path(path).name)
        return summary.to_dict(), tally
    return _summarize_shard(path, kwargs, shard, shards, tally).to_dict(), tally


def _summarize_shard(path: str, kwargs: dict[str, Any], shard: int, shards: int,
                     tally: Tally) -> ApiSummary:
    """Shard `shard` of `shards` of one file: the reader deals the records out (a HAR reader
    passes over other shards' entries without building them); the shards' tallies add up."""
    import dataclasses

    from observe.cli import chain_from_options
    from observe.options import read_options_from
    from observe.sources import read_source

    chain = chain_from_options(kwargs, tally)
    options = dataclasses.replace(read_options_from(kwargs), shard=(shard, shards))
    summary = ApiSummary()
    name = Path(path).name
    for position, exchange in enumerate(read_source(path, options, tally)):
        result = chain.apply(exchange)
        if result is None:
            continue
        tally.exchange(result.incomplete)
        index = result.origin.index if result.origin.index else position * shards + shard
        summary.add(result, f"{name}#{index:09d}")
    return summary


def _prepare_while_waiting() -> None:
    """Import what rendering and validating the spec will need (openapi-spec-validator takes
    about half a second) in a thread while the worker processes summarise, so the parent does
    not do it afterwards. Started only after the pool has forked its workers."""
    import threading

    def load() -> None:
        try:
            import openapi_spec_validator  # noqa: F401

            import specs.openapi  # noqa: F401
        except Exception:
            pass

    threading.Thread(target=load, name="restscope-prefetch", daemon=True).start()


def default_jobs() -> int:
    return usable_cores()


SHARD_MIN_BYTES = 4 << 20  # smaller files are not worth reading more than once


def plan_jobs(paths: list[str], kwargs: dict[str, Any], jobs: int) -> list[Job]:
    """One job per file; with spare workers, large files are split into shards."""
    spare = max(1, jobs // max(1, len(paths)))
    work: list[Job] = []
    for path in paths:
        try:
            large = os.path.getsize(path) >= SHARD_MIN_BYTES and not is_summary_file(Path(path))
        except OSError:
            large = False
        shards = spare if large else 1
        work.extend((path, kwargs, shard, shards) for shard in range(shards))
    return work


def summarize_sources(paths: list[str], kwargs: dict[str, Any], jobs: int | None,
                      tally: Tally) -> ApiSummary:
    """Summarise every source (in `jobs` processes) and merge."""
    jobs = jobs or default_jobs()
    work = plan_jobs(paths, kwargs, jobs)
    workers = min(jobs, len(work)) or 1
    results: list[tuple[dict[str, Any], Tally]]
    if workers <= 1:
        results = [_summarize_file(job) for job in work]
    else:
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with context.Pool(workers) as pool:
            waiting = pool.map_async(_summarize_file, work, chunksize=1)
            _prepare_while_waiting()  # the workers are forked: safe to import in a thread now
            results = waiting.get()
    total = ApiSummary()
    for data, part in results:
        if data:
            total = total.merge(ApiSummary.from_dict(data))
        tally.merge(part)
    return total
