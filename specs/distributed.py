"""Inference past one machine: the per-file summaries of `-j`, computed and merged on Dask.

`summarize_on_dask(sources, kwargs, target, tally)` plans the same jobs as `specs.run` (one per
input file, or per shard of a large one), runs each as a Dask task that returns a shape summary
and a tally, merges the results in a tree reduction on the cluster, and hands the driver one
summary to render. Sources may be local paths, globs, or fsspec URLs (s3://, gs://, hdfs://...);
a worker copies a remote file to its local disk before reading it.

Invariants:
1. The result equals `-j 1`'s: summaries merge associatively and commutatively, and every task is
   a pure function of its job, so retries and any reduction order give the same summary.
2. A task whose worker dies is recomputed elsewhere (Dask's own retry: `retries` on every task).
3. Dask is optional (`pip install 'restscope[dask]'`); without it the error says how to install.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from observe.errors import InputError
from observe.tally import Tally
from specs.run import Job, _summarize_file, is_summary_file
from specs.summary import ApiSummary

INSTALL_HINT = "Dask is not installed; install it with: pip install 'restscope[dask]'"
TASK_RETRIES = 3

SummaryResult = tuple[dict[str, Any], Tally]
Task = Callable[[Job], SummaryResult]


@dataclass(frozen=True)
class DaskTarget:
    """Where to run: a scheduler address, or a LocalCluster of `workers` processes."""

    address: str | None = None
    workers: int | None = None

    @classmethod
    def parse(cls, text: str) -> DaskTarget:
        """`tcp://host:8786` (any scheme Dask knows) or `local` / `local:N`."""
        if text == "local" or text.startswith("local:"):
            _, _, count = text.partition(":")
            if count and (not count.isdigit() or int(count) < 1):
                raise InputError(f"--dask {text!r}: use local or local:N with N >= 1")
            return cls(workers=int(count) if count else None)
        if "://" not in text:
            raise InputError(
                f"--dask {text!r}: give a scheduler address like tcp://scheduler:8786, "
                "or local[:N] for a local cluster"
            )
        return cls(address=text)


def _is_url(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


def expand_sources(sources: list[str]) -> list[str]:
    """Expand globs (local or remote); keep plain paths as given; sorted within each glob."""
    out: list[str] = []
    for source in sources:
        if _is_url(source):
            fsspec = _import_fsspec()
            fs, _, paths = fsspec.core.get_fs_token_paths(source)
            protocol = source.split("://", 1)[0]
            matched = sorted(paths) if any(c in source for c in "*?[") else [source]
            if not matched:
                raise InputError(f"{source}: no file matches")
            out.extend(p if "://" in p else f"{protocol}://{p}" for p in matched)
            del fs
        elif any(c in source for c in "*?["):
            matched = sorted(glob.glob(source, recursive=True))
            if not matched:
                raise InputError(f"{source}: no file matches")
            out.extend(matched)
        else:
            if not os.path.exists(source):
                raise InputError(f"{source}: no such file")
            out.append(source)
    return out


def _import_fsspec() -> Any:
    try:
        import fsspec
    except ImportError as exc:
        raise InputError("reading URLs needs fsspec: pip install 'restscope[dask]'") from exc
    return fsspec


def summarize_job(job: Job) -> SummaryResult:
    """One Dask task: summarise a local file, or a local copy of a remote one."""
    path, kwargs, shard, shards = job
    if not _is_url(path):
        return _summarize_file(job)
    fsspec = _import_fsspec()
    suffix = "".join(Path(path.split("://", 1)[1]).suffixes[-2:])
    with tempfile.TemporaryDirectory(prefix="restscope-") as folder:
        local = os.path.join(folder, "source" + suffix)
        with fsspec.open(path, "rb") as remote, open(local, "wb") as handle:
            shutil.copyfileobj(remote, handle, 1 << 20)
        data, tally = _summarize_file((local, kwargs, shard, shards))
    return data, tally


def merge_results(left: SummaryResult, right: SummaryResult) -> SummaryResult:
    """Merge two task results (a reduction step, run on the cluster)."""
    summary = ApiSummary.from_dict(left[0]).merge(ApiSummary.from_dict(right[0]))
    tally = Tally().merge(left[1]).merge(right[1])
    return summary.to_dict(), tally


def plan_dask_jobs(paths: list[str], kwargs: dict[str, Any], shards_per_file: int) -> list[Job]:
    """One job per file; local files larger than the shard threshold are split."""
    from specs.run import SHARD_MIN_BYTES

    jobs: list[Job] = []
    for path in paths:
        shards = 1
        if not _is_url(path) and not is_summary_file(Path(path)):
            try:
                if os.path.getsize(path) >= SHARD_MIN_BYTES * 4:
                    shards = shards_per_file
            except OSError:
                shards = 1
        jobs.extend((path, kwargs, shard, shards) for shard in range(shards))
    return jobs


def _connect(target: DaskTarget) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError(INSTALL_HINT) from exc
    if target.address:
        try:
            return Client(target.address, timeout="20s"), None
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {target.address}: {exc}") from exc
    cluster = LocalCluster(n_workers=target.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def _tree_reduce(client: Any, futures: list[Any]) -> Any:
    """Pairwise merges on the cluster until one future is left."""
    level = list(futures)
    while len(level) > 1:
        paired = [client.submit(merge_results, level[i], level[i + 1], retries=TASK_RETRIES,
                                pure=False)
                  for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def summarize_on_dask(
    sources: list[str],
    kwargs: dict[str, Any],
    target: str,
    tally: Tally,
    show_progress: bool = True,
    task: Task = summarize_job,
) -> ApiSummary:
    """Summarise every source on a Dask cluster and merge there; returns the merged summary."""
    from distributed import as_completed

    from observe.report import stderr

    paths = expand_sources(sources)
    client, cluster = _connect(DaskTarget.parse(target))
    started = time.monotonic()
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        jobs = plan_dask_jobs(paths, kwargs, shards_per_file=workers)
        futures = client.map(task, jobs, retries=TASK_RETRIES, pure=False)
        if show_progress and stderr.is_terminal:
            from rich.progress import Progress

            with Progress(console=stderr, transient=True) as progress:
                bar = progress.add_task(f"summarising on {workers} Dask workers",
                                        total=len(futures))
                for _ in as_completed(futures):
                    progress.advance(bar)
        data, part = _tree_reduce(client, futures).result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    tally.merge(part)
    tally.count("dask files", len(paths))
    tally.count("dask tasks", len(jobs))
    tally.count("dask seconds", round(time.monotonic() - started))
    return ApiSummary.from_dict(data)
