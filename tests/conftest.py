"""Shared test fixtures: where the real-traffic corpus lives, and how its absence is handled.

Corpus tests read `../shared/corpus` in place. Without it they are skipped with a reason, except
when `CI=true`, where a missing corpus is a failure (CI always has it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("RESTSCOPE_CORPUS", REPO.parent / "shared" / "corpus"))


def corpus_path(*parts: str) -> Path:
    """A path inside the corpus; skips (or fails under CI) when the corpus is absent."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        message = f"corpus file {path} is absent (expected ../shared/corpus beside the repo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def corpus() -> Path:
    return corpus_path()
