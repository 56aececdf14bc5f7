"""Summaries as a Dask job: one task per capture file, merged by Dask's tree reduction.

Because `ApiSummary.merge` is associative and commutative with an empty value, Dask may combine
partial summaries in any grouping and order and the result equals a local run's. Summaries
travel between workers as their canonical dicts (`to_dict`), the same form as summary files.
Needs the `dask` extra; importing this module without it raises a one-line InputError.
"""

from __future__ import annotations

from typing import Any

from observe.errors import InputError
from specs.summary import ApiSummary


def _summarize_path(path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    from specs.run import _summarize_file

    data, _ = _summarize_file((path, kwargs, 0, 1))
    return data


def _merge_dicts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return ApiSummary.from_dict(a).merge(ApiSummary.from_dict(b)).to_dict()


def summarize_with_dask(paths: list[str], kwargs: dict[str, Any],
                        scheduler: str | None = None) -> ApiSummary:
    """Summarise `paths` on the current Dask scheduler (or the one named) and merge."""
    try:
        import dask.bag as db
    except ImportError as exc:
        raise InputError("Dask is not installed: pip install 'restscope[dask]'") from exc
    if not paths:
        return ApiSummary()
    bag = db.from_sequence(paths, npartitions=len(paths))
    summaries = bag.map(_summarize_path, kwargs)
    merged = summaries.fold(_merge_dicts, _merge_dicts, initial={})
    result = merged.compute(scheduler=scheduler) if scheduler else merged.compute()
    return ApiSummary.from_dict(result)
