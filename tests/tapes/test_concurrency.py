"""Acceptance 5: concurrent identical misses go upstream once, across clients and processes;
writes are atomic, so killing a recording proxy never leaves a broken tape."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from observe.formats.tape import load_tape
from observe.formats.tapefolder import tape_files
from tapes.proxy import ProxySettings
from tapes.runner import BackgroundProxy
from tests.tapes.conftest import LocalUpstream

pytestmark = pytest.mark.network

TARGETS = [f"/services/rest?method=flickr.photos.getInfo&photo_id={i}&api_key=k{i % 7}"
           for i in range(200)]


def hammer(urls: list[str], clients: int) -> list[int]:
    """`clients` threads, each sending every target once in its own shuffled order."""
    statuses: list[int] = []
    lock = threading.Lock()

    def run(seed: int) -> None:
        order = list(TARGETS)
        random.Random(seed).shuffle(order)
        with httpx.Client(base_url=urls[seed % len(urls)], timeout=60) as client:
            for target in order:
                status = client.get(target).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


def assert_valid_tapes(folder: Path, expected: int) -> None:
    tapes = tape_files(folder)
    assert len(tapes) == expected
    for path in tapes:
        assert load_tape(path).exchange.response is not None


def test_eight_clients_same_200_requests_call_upstream_200_times(
    upstream: LocalUpstream, tmp_path: Path
) -> None:
    settings = ProxySettings(upstream=upstream.url, folder=tmp_path, mode="record")
    with BackgroundProxy(settings) as running:
        statuses = hammer([running.url], clients=8)
    assert statuses == [200] * 1600
    assert upstream.total == 200
    assert max(upstream.calls.values()) == 1
    assert_valid_tapes(tmp_path, 200)


def test_two_proxies_sharing_a_folder_record_each_request_once(
    upstream: LocalUpstream, tmp_path: Path
) -> None:
    # two proxies with their own stores, locks and event loops: only the file lock is shared
    first = BackgroundProxy(ProxySettings(upstream=upstream.url, folder=tmp_path, mode="record"))
    second = BackgroundProxy(ProxySettings(upstream=upstream.url, folder=tmp_path, mode="record"))
    with first, second:
        statuses = hammer([first.url, second.url], clients=8)
    assert statuses == [200] * 1600
    assert upstream.total == 200
    assert_valid_tapes(tmp_path, 200)


def test_killing_a_recording_proxy_leaves_no_broken_tape(
    upstream: LocalUpstream, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "observe", "tapes", "serve", "--upstream", upstream.url,
               "--tapes", str(tmp_path), "--mode", "record", "--listen", "127.0.0.1:0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        stop = threading.Event()

        def client(seed: int) -> None:
            with httpx.Client(base_url=url, timeout=5) as http:
                for target in TARGETS[seed::4]:
                    if stop.is_set():
                        return
                    try:
                        http.get(target + "&big=" + "x" * 2000)
                    except httpx.HTTPError:
                        return

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(tape_files(tmp_path)) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # in the middle of recording
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        process.kill()
        process.wait(10)
    tapes = tape_files(tmp_path)
    assert len(tapes) >= 20
    for path in tapes:
        load_tape(path)  # every visible tape is whole
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".tmp"]
    assert all(p.name.startswith(".") for p in leftovers)
