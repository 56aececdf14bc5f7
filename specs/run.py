"""Summarise traffic files, one worker process per file, and merge the results.

`summarize_sources(paths, kwargs, jobs)` reads every source through the observe pipeline (reader
+ plugin chain, `observe.cli.process_exchanges`) and folds each exchange into an `ApiSummary`.
Files that are summary files (`restscope specs summarize` output) are loaded instead of read.

Invariants:
1. The result does not depend on `jobs` or on the order of `paths`: summaries merge
   associatively and commutatively, and the location recorded for each value is
   `<file>#<index>` (zero-padded), whose minimum is order-independent.
2. Tallies add up across workers (`Tally.merge`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from observe.exchange import Exchange
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


def _summarize_file(job: tuple[str, dict[str, Any]]) -> tuple[dict[str, Any], Tally]:
    path, kwargs = job
    tally = Tally()
    if is_summary_file(Path(path)):
        return load_summary(Path(path)).to_dict(), tally
    from observe.cli import process_exchanges

    summary = summarize_exchanges(process_exchanges([path], kwargs, tally), path)
    return summary.to_dict(), tally


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def summarize_sources(paths: list[str], kwargs: dict[str, Any], jobs: int | None,
                      tally: Tally) -> ApiSummary:
    """Summarise every source (in `jobs` processes) and merge."""
    work = [(path, kwargs) for path in paths]
    jobs = min(jobs or default_jobs(), len(work)) or 1
    results: list[tuple[dict[str, Any], Tally]]
    if jobs <= 1:
        results = [_summarize_file(job) for job in work]
    else:
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with context.Pool(jobs) as pool:
            results = pool.map(_summarize_file, work, chunksize=1)
    total = ApiSummary()
    for data, part in results:
        total = total.merge(ApiSummary.from_dict(data))
        tally.merge(part)
    return total
