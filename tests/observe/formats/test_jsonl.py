"""JSONL: the line format, streaming (flush per line, a partial last line), and bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from observe.errors import InputError
from observe.exchange import Exchange, Request, Response
from observe.formats import jsonl
from observe.headers import Headers
from observe.sources import ReadOptions, detect_format
from observe.tally import Tally


def sample(n: int) -> Exchange:
    return Exchange(
        Request.from_url("GET", f"http://api.example/items/{n}"),
        Response(status=200, headers=Headers([("Content-Type", "application/octet-stream")]),
                 body=bytes([n, 0xFF, 0xFE])),
    )


def read(path: Path, tally: Tally) -> list[Exchange]:
    return list(jsonl.read_jsonl(path, ReadOptions(), tally))


def test_line_layout_is_versioned_with_tagged_bodies() -> None:
    record = json.loads(jsonl.dumps_exchange(sample(1)))
    assert next(iter(record)) == "v" and record["v"] == 1
    assert record["request"]["body"] == {"text": ""}
    assert record["response"]["body"] == {"base64": "Af/+"}  # not UTF-8: base64, tagged
    assert record["response"]["headers"] == [["Content-Type", "application/octet-stream"]]


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())
        super().flush()


def test_writer_flushes_whole_lines_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    line = len(jsonl.dumps_exchange(sample(0))) + 1
    monkeypatch.setattr(jsonl, "WRITE_CHUNK", 2 * line)  # two lines a chunk
    stream = CountingStream()
    assert jsonl.write_jsonl((sample(n) for n in range(5)), stream) == 5
    assert [text.count("\n") for text in stream.flushed] == [2, 4, 5]
    assert all(text.endswith("\n") for text in stream.flushed)
    assert stream.getvalue() == "".join(jsonl.dumps_exchange(sample(n)) + "\n" for n in range(5))


def test_partial_last_line_is_counted_as_truncated(tmp_path: Path) -> None:
    lines = [jsonl.dumps_exchange(sample(n)) for n in range(3)]
    path = tmp_path / "live.jsonl"
    # the writer was interrupted in the middle of the third line
    path.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][: len(lines[2]) // 2])
    assert detect_format(path) == "jsonl"
    tally = Tally()
    assert read(path, tally) == [sample(0), sample(1)]
    assert tally.skipped_of("record") == {"truncated line": 1}


def test_bad_line_in_the_middle_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(jsonl.dumps_exchange(sample(0)) + "\n{not json}\n\n"
                    + '{"v":1,"request":{}}\n' + jsonl.dumps_exchange(sample(2)) + "\n")
    tally = Tally()
    assert read(path, tally) == [sample(0), sample(2)]
    assert tally.skipped_of("record") == {
        "bad JSONL line: not JSON": 1,
        "bad JSONL line: missing or bad field 'method'": 1,
    }


@pytest.mark.parametrize(
    "content",
    [b"garbage\n", b'{"no_version": true}\n', b"\x89PNG\r\n\x1a\n\x00\x00\n", b"[1]\n"],
)
def test_a_file_that_does_not_start_with_a_record_is_an_input_error(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read(path, Tally())
    message = str(caught.value)
    assert "\n" not in message and "not a restscope JSONL file" in message


def test_a_newer_version_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "future.jsonl"
    path.write_text('{"v":2,"request":{"method":"GET"}}\n')
    with pytest.raises(InputError, match="upgrade restscope"):
        read(path, Tally())


def test_gzipped_log_reads_the_same(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "log.jsonl.gz"
    text = "".join(jsonl.dumps_exchange(sample(n)) + "\n" for n in range(2))
    path.write_bytes(gzip.compress(text.encode()))
    assert detect_format(path) == "jsonl"
    assert read(path, Tally()) == [sample(0), sample(1)]
