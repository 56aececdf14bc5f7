"""Fixtures of the live tests: loopback upstreams and a log reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from observe.exchange import Exchange
from observe.formats.jsonl import loads_exchange
from tests.observe.live.servers import Upstream


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def tls_upstream(tmp_path: Path) -> Iterator[Upstream]:
    server = Upstream(tls_dir=tmp_path)
    yield server
    server.close()


def read_log(path: Path) -> list[Exchange]:
    return [loads_exchange(line) for line in path.read_text().splitlines() if line.strip()]
