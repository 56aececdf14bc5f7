"""The HAR reader streams: key order, chunk boundaries, truncation, errors, progress, memory.

Each test runs the reader with a tiny `har.READ_CHUNK` where the point is to cross chunk
boundaries (an entry, a number, a BOM or a multi-byte character cut between two reads), and
compares with what `json.loads` of the whole document says.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observe.errors import InputError, TruncatedInputError
from observe.exchange import Exchange, Origin
from observe.formats import har
from observe.formats.common import JsonStream
from observe.sources import ReadOptions, detect_format
from observe.tally import Tally


def entry(i: int, body: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "startedDateTime": "2024-01-02T03:04:05.123456+00:00",
        "time": 12.345678 + i,
        "request": {"method": "GET", "url": f"https://api.example/items/{i}?q=caf\u00e9",
                    "httpVersion": "HTTP/1.1", "headers": [{"name": "Accept", "value": "*/*"}]},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                     "headers": [{"name": "Content-Type", "value": "text/plain; charset=utf-8"}],
                     "content": {"size": len(body), "mimeType": "text/plain", "text": body}},
        "timings": {"blocked": -1, "send": 1.5, "wait": 10.25, "receive": 0.595678},
        **extra,
    }


def read(path: Path, tally: Tally | None = None, chunk: int | None = None,
         monkeypatch: pytest.MonkeyPatch | None = None) -> list[Exchange]:
    if chunk is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(har, "READ_CHUNK", chunk)
    return list(har.read_har(path, ReadOptions(), tally if tally is not None else Tally()))


def summary(exchanges: list[Exchange]) -> list[tuple[str, int | None, bytes, float | None]]:
    return [(e.request.url, e.response.status if e.response else None,
             e.response.body if e.response else b"", e.timing.response_end) for e in exchanges]


def whole_document_reference(path: Path, entries: list[Any]) -> list[Exchange]:
    """What the pre-streaming reader gave: each entry of the whole document (`json.loads`)."""
    return [har.exchange_from_entry(e, Origin("har", str(path), i)) for i, e in enumerate(entries)]


PAGES = [{"startedDateTime": "2024-01-02T03:04:05Z", "id": "page_1", "title": "x ] } [ {",
          "pageTimings": {"onLoad": 120, "onContentLoad": -1}}]
CREATOR = {"name": "Firefox", "version": "120.0", "comment": "\"entries\": []"}


@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 16])
def test_entries_after_pages_with_whitespace_everywhere(tmp_path: Path, chunk: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [entry(i, body="h\u00e9llo \u2603 " * i) for i in range(4)]
    inner = ",\n\t".join(json.dumps(e, indent=3) for e in entries)
    text = (
        '\ufeff \n{ "comment" : {"log": {"entries": []}} ,\r\n "log" :\n{\n "version":"1.2",'
        f' "creator" : {json.dumps(CREATOR)},\n "browser": {{"name": "x", "version": "1"}},\n'
        f' "pages"\n:\n{json.dumps(PAGES, indent=1)} ,\n\n  "entries"  :  [\n\t{inner}\n  ]\n'
        ' , "comment": "after" }\n}\n\n'
    )
    path = tmp_path / "after-pages.har"
    path.write_bytes(text.encode("utf-8"))
    assert detect_format(path) == "har"
    exchanges = read(path, chunk=chunk, monkeypatch=monkeypatch)
    assert exchanges == whole_document_reference(path, entries) != []
    assert [e.origin.index for e in exchanges] == [0, 1, 2, 3]
    assert exchanges[3].response is not None
    assert exchanges[3].response.body == ("h\u00e9llo \u2603 " * 3).encode("utf-8")


@pytest.mark.parametrize("chunk", [1, 5, 1 << 16])
def test_entries_before_creator_and_pages(tmp_path: Path, chunk: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [entry(0), {"request": {"method": "GET", "url": "http://h/"},
                          "response": {"status": 0, "_error": "net::ERR_FAILED"}}, entry(2)]
    document = {"log": {"entries": entries, "creator": CREATOR, "pages": PAGES,
                        "version": "1.2"}}
    path = tmp_path / "before-creator.har.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + json.dumps(document).encode()))
    exchanges = read(path, chunk=chunk, monkeypatch=monkeypatch)
    assert exchanges == whole_document_reference(path, entries)
    assert exchanges[1].response is None and exchanges[1].incomplete == har.NO_RESPONSE
    assert exchanges[1].meta == {"error": "net::ERR_FAILED"}
    start = exchanges[0].timing.request_start
    assert start is not None
    assert exchanges[0].timing.response_end == pytest.approx(
        start + (1.5 + 10.25 + 0.595678) / 1000)


def test_an_entry_spanning_many_chunks_reads_whole(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blob = bytes(range(256)) * 2000  # 512,000 bytes, ~680 KB as base64
    big = entry(1)
    big["response"]["content"] = {"size": len(blob), "mimeType": "application/octet-stream",
                                  "encoding": "base64", "text": base64.b64encode(blob).decode()}
    path = tmp_path / "big-entry.har"
    path.write_text(json.dumps({"log": {"entries": [entry(0), big, entry(2)]}}))
    seen: list[int] = []
    monkeypatch.setattr(har, "READ_CHUNK", 1000)  # the big entry spans ~700 reads
    exchanges = list(har.read_har(path, ReadOptions(on_bytes=seen.append), Tally()))
    assert [e.request.url.split("?")[0] for e in exchanges] == [
        f"https://api.example/items/{i}" for i in range(3)]
    assert exchanges[1].response is not None and exchanges[1].response.body == blob
    assert sum(seen) == path.stat().st_size
    assert len(seen) > 10  # progress is told as the file is read, not once at the end


@pytest.mark.parametrize("compress", [False, True])
def test_progress_adds_up_to_the_file_size(tmp_path: Path, compress: bool,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    noise = [base64.b64encode(random.Random(i).randbytes(3000)).decode() for i in range(100)]
    data = json.dumps({"log": {"entries": [entry(i, n) for i, n in enumerate(noise)]}}).encode()
    path = tmp_path / "progress.har"
    path.write_bytes(gzip.compress(data) if compress else data)
    monkeypatch.setattr(har, "READ_CHUNK", 512)
    seen: list[int] = []
    exchanges = list(har.read_har(path, ReadOptions(on_bytes=seen.append), Tally()))
    assert len(exchanges) == 100
    assert sum(seen) == path.stat().st_size and all(n > 0 for n in seen)
    assert len(seen) > 1


def test_a_cut_after_whole_entries_keeps_them_and_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = json.dumps({"log": {"entries": [entry(i) for i in range(3)], "pages": []}})
    cut_in_third = text[: text.index('"https://api.example/items/2') + 5]
    cut_after_entries = text[: text.index('"pages"') + 4]
    for cut, kept in ((cut_in_third, 2), (cut_after_entries, 3)):
        path = tmp_path / "cut.har"
        path.write_text(cut)
        tally = Tally()
        exchanges = read(path, tally, chunk=7, monkeypatch=monkeypatch)
        assert [e.origin.index for e in exchanges] == list(range(kept))
        assert tally.skipped_of("record") == {"truncated HAR file": 1}
    # a cut inside the first entry leaves nothing to read: the file is unusable
    path.write_text(text[: text.index("items/0") + 3])
    with pytest.raises(TruncatedInputError, match="ends early"):
        read(path)


@pytest.mark.parametrize("chunk", [1, 4, 1 << 16])
@pytest.mark.parametrize(
    "text",
    [
        '{"log": {"entries": [{"request": {}}, {"request": {"method": "GET",, "url": 1}}]}}',
        '{"log": {"entries": [{}]},\n "extra":\n  [1, 2,\n   x]}',
        '{"log": {"entries": [{}, ]}}',
        '{"log": {"entries": [{}]}} {"second": "document"}',
        '{"log": {"entries": [{}]}, }',
        '{"log" {"entries": []}}',
        '{\n\n  "log": {"entries": [{}]\n    "pages": []}}',
    ],
)
def test_invalid_json_is_an_input_error_at_the_line_and_column_json_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, chunk: int
) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    path = tmp_path / "invalid.har"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read(path, chunk=chunk, monkeypatch=monkeypatch)
    assert not isinstance(caught.value, TruncatedInputError)
    where = f"line {expected.value.lineno}, column {expected.value.colno}"
    assert str(caught.value) == (
        f"{path}: not a HAR file (invalid JSON at {where}: {expected.value.msg})")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"log": {"entries": [{}]}, "x": "\xe2\x98', "not UTF-8 text (byte 33 is invalid)"),
        (b'{"log": {"entries": [{}]}, "x": "\xff"}', "not UTF-8 text (byte 33 is invalid)"),
        (b'{"log": {"pages": [], "entries": {}}}', "not a HAR file (no log.entries list)"),
        (b'[{"log": {"entries": []}}]', "not a HAR file (no log.entries list)"),
        (b"", "the HAR file ends early (truncated JSON)"),
        (b"\xef\xbb\xbf  \n", "the HAR file ends early (truncated JSON)"),
    ],
)
def test_other_unusable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes,
                              message: str) -> None:
    path = tmp_path / "bad.har"
    path.write_bytes(data)
    for chunk in (1, 1 << 16):
        with pytest.raises(InputError) as caught:
            read(path, chunk=chunk, monkeypatch=monkeypatch)
        assert str(caught.value) == f"{path}: {message}"


def test_a_corrupt_gzip_layer_is_an_input_error(tmp_path: Path) -> None:
    data = gzip.compress(json.dumps({"log": {"entries": [entry(0)]}}).encode())
    path = tmp_path / "cut.har.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="corrupt or truncated gzip data"):
        read(path)


def test_har_entries_of_a_document_in_memory_keeps_its_contract() -> None:
    entries = [entry(0), {"anything": [1, 2.5, None, True]}]
    text = json.dumps({"log": {"pages": [], "entries": entries}}, indent=2)
    assert har.har_entries(text, "mem") == entries
    with pytest.raises(InputError, match=r"no log\.entries list"):
        har.har_entries('{"log": {}}', "mem")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    before=st.dictionaries(st.sampled_from(["version", "creator", "pages", "browser"]),
                           json_values, max_size=3),
    after=st.dictionaries(st.sampled_from(["comment", "_x", "pages2"]), json_values,
                          max_size=2),
    entries=st.lists(json_values, max_size=6),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    chunk=st.integers(1, 40),
)
def test_streamed_entries_are_what_json_loads_gives(
    before: dict[str, Any], after: dict[str, Any], entries: list[Any], indent: int | str | None,
    chunk: int,
) -> None:
    document = {"log": {**before, "entries": entries, **after}}
    text = json.dumps(document, indent=indent, ensure_ascii=chunk % 2 == 0)
    stream = JsonStream(io.BytesIO(text.encode()), "mem", "HAR", chunk_size=chunk)
    assert list(stream.array_at(("log", "entries"))) == json.loads(text)["log"]["entries"]
    assert not stream.truncated


def write_small_har(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},\n'
                     '"entries": [\n')
        for i in range(count):
            handle.write(("" if i == 0 else ",\n") + json.dumps(entry(i, body=f'{{"id": {i}}}')))
        handle.write('\n], "pages": []}}\n')


def peak_while_reading(path: Path) -> tuple[int, int]:
    """(tracemalloc peak in bytes, exchanges read) while iterating the reader, keeping nothing."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        count = sum(1 for _ in har.read_har(path, ReadOptions(), Tally()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, count


def test_memory_stays_flat_from_2000_to_20000_entries(tmp_path: Path) -> None:
    small, large = tmp_path / "2000.har", tmp_path / "20000.har"
    write_small_har(small, 2000)
    write_small_har(large, 20_000)
    small_peak, small_count = peak_while_reading(small)
    large_peak, large_count = peak_while_reading(large)
    assert (small_count, large_count) == (2000, 20_000)
    size = large.stat().st_size  # ~13 MB
    assert large_peak < size / 4
    assert large_peak < 2 * small_peak + 256 * 1024  # flat, not 10x
