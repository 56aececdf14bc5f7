"""Acceptance 2 and 4: the flickr-sdk yakbak tapes and the corpus vcrpy cassettes import and
replay the status, headers and decoded body they recorded, and no corpus credential reaches
any tape written."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from observe.errors import InputError
from observe.exchange import Exchange
from observe.tally import Tally
from tapes.interop import import_sources
from tapes.proxy import ProxySettings
from tapes.redact import redact
from tapes.runner import BackgroundProxy
from tapes.yakbak import parse_yakbak, yakbak_files
from tests.conftest import corpus_path

pytestmark = [pytest.mark.corpus, pytest.mark.network]
SKIP_HEADERS = {"content-length", "transfer-encoding", "connection", "x-restscope-tape"}
CORRUPT = "4088174cfcabc0f0e8a0c1b6938bc229.js"


def yakbak_folder() -> Path:
    return corpus_path("flickr_responses", "json_yakbak_tapes")


def replay_raw(address: tuple[str, int], exchange: Exchange) -> tuple[int, list[tuple[str, str]],
                                                                      bytes]:
    """Send the recorded request as-is; return status, headers and raw body bytes."""
    target = exchange.request.target.replace(" ", "%20")
    body = exchange.request.decoded()
    extra = f"Content-Length: {len(body)}\r\n" if body else ""
    if exchange.request.content_type:
        extra += f"Content-Type: {exchange.request.content_type}\r\n"
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(f"{exchange.request.method} {target} HTTP/1.1\r\nHost: x\r\n{extra}"
                     "Accept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n".encode()
                     + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines[1:])]
    return int(lines[0].split()[1]), headers, body


def comparable(headers: list[tuple[str, str]] | object) -> list[tuple[str, str]]:
    return [(n.lower(), v) for n, v in headers if n.lower() not in SKIP_HEADERS]  # type: ignore[attr-defined]


def test_yakbak_tapes_import_and_replay_what_they_recorded(tmp_path: Path) -> None:
    tally = Tally()
    result = import_sources([yakbak_folder()], tmp_path, tally)
    assert len(result.written) == 11
    # the corrupt gzip body is imported raw and reported, not dropped
    assert [note for _, note in result.raw_bodies] == [
        "body kept as sent: corrupt gzip body: Error -3 while decompressing data: "
        "invalid distance too far back"
    ]
    settings = ProxySettings(upstream="https://api.flickr.com", folder=tmp_path, mode="replay")
    with BackgroundProxy(settings) as running:
        for file in yakbak_files(yakbak_folder()):
            recorded = parse_yakbak(file.read_text(encoding="utf-8"), str(file))
            expected = redact(recorded).response
            assert expected is not None and recorded.response is not None
            status, headers, body = replay_raw(running.address, recorded)
            assert status == recorded.response.status, file.name
            assert comparable(headers) == comparable(expected.headers), file.name
            if file.name == CORRUPT:
                assert body == recorded.response.body  # the raw bytes as recorded
                continue
            replayed = httpx.Response(status, headers=headers, content=body)
            assert replayed.content == expected.decoded(), file.name
        assert running.proxy.stats.misses == 0


def test_yakbak_bodies_match_the_decoded_corpus_files(tmp_path: Path) -> None:
    import_sources([yakbak_folder()], tmp_path, Tally())
    decoded = corpus_path("flickr_responses", "json_yakbak_tapes_decoded")
    settings = ProxySettings(upstream="https://api.flickr.com", folder=tmp_path, mode="replay")
    with BackgroundProxy(settings) as running, httpx.Client(base_url=running.url) as client:
        for expected_file in sorted(decoded.glob("*.json")):
            prefix = expected_file.stem.rsplit("__", 1)[1]
            (source,) = yakbak_folder().glob(prefix + "*.js")
            recorded = parse_yakbak(source.read_text(encoding="utf-8"), str(source))
            assert recorded.response is not None
            # the body the tape should hold: the corpus's decoded bytes, redacted on record
            # (echoed OAuth parameters; the Redactor also treats Flickr's photo `secret` so)
            plain = recorded.response.evolve(
                body=expected_file.read_bytes(), content_encoding="",
                headers=recorded.response.headers.without("content-encoding"))
            expected = redact(recorded.evolve(response=plain)).response
            assert expected is not None
            response = client.get(recorded.request.target.replace(" ", "%20"))
            assert response.content == expected.body, expected_file.name


def test_vcrpy_cassettes_import_and_replay(tmp_path: Path) -> None:
    from observe.sources import read_source

    folders = [corpus_path("vcr_cassettes"), corpus_path("flickr_responses", "xml_vcr_cassettes")]
    cassettes = sorted(p for f in folders for p in f.iterdir() if p.suffix in (".yaml", ".yml",
                                                                              ".json"))
    for cassette in cassettes:
        folder = tmp_path / cassette.stem
        import_sources([cassette], folder, Tally())
        recorded = [e for e in read_source(cassette) if e.response is not None]
        settings = ProxySettings(upstream="https://example.test", folder=folder, mode="replay",
                                 match=None)
        with BackgroundProxy(settings) as running:
            seen: set[str] = set()
            for exchange in recorded:
                request = exchange.request
                identity = f"{request.method} {request.target} {request.body!r}"
                if identity in seen:
                    continue  # repeated requests replay the first recording (no --sequence)
                seen.add(identity)
                expected = redact(exchange).response
                assert expected is not None
                status, headers, body = replay_raw(running.address, exchange)
                assert status == expected.status, cassette.name
                assert comparable(headers) == comparable(expected.headers), cassette.name
                replayed = httpx.Response(status, headers=headers, content=body)
                assert replayed.content == expected.decoded(), cassette.name


CREDENTIAL = re.compile(
    r"(?:oauth_consumer_key|oauth_token|oauth_signature|oauth_nonce|api_key|api_sig|"
    r"auth_token|access_token)=([^&\s\"']{8,})"
)

JSON_CREDENTIAL = re.compile(
    r'\\?"(?:token|access_token|api_key|oauth_token|secret_token)\\?"\s*:\s*\\?"([^"\\]{8,})'
)


def corpus_credentials() -> set[str]:
    """Credential values committed in the corpus tapes and cassettes."""
    found: set[str] = set()
    for folder in (yakbak_folder(), corpus_path("vcr_cassettes"), corpus_path("har"),
                   corpus_path("flickr_responses", "xml_vcr_cassettes")):
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8", errors="replace")
            found.update(CREDENTIAL.findall(text))
            found.update(JSON_CREDENTIAL.findall(text))
    return {value for value in found if value.upper() != "REDACTED"}


def test_no_corpus_credential_reaches_any_tape(tmp_path: Path) -> None:
    credentials = corpus_credentials()
    # the 2016 flickr-sdk OAuth key, token and signatures, a Twitter geo token
    assert "68a62ca6dccd553ca49e069d4b68e92d" in credentials
    assert "e70e5b2a1c04e2f38d507b4fab266ece" in credentials
    sources = [yakbak_folder()]
    try:
        import observe.formats.cassette
        import observe.formats.har  # noqa: F401
    except ImportError:
        pass
    else:
        sources += [corpus_path("vcr_cassettes"), corpus_path("har"),
                    corpus_path("flickr_responses", "xml_vcr_cassettes")]
    for source in sources:
        files = [source] if source.name == "json_yakbak_tapes" else sorted(source.iterdir())
        for file in files:
            try:
                import_sources([file], tmp_path, Tally())
            except InputError:
                continue  # a corpus file that is deliberately broken
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written
    for path in written:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in credentials:
            for form in {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}:
                assert form not in text, f"{path.name} holds a corpus credential"


def test_export_to_cassette_and_har_reads_back(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from observe.sources import read_source
    from tapes.cli import tapes_group

    folder = tmp_path / "tapes"
    import_sources([yakbak_folder()], folder, Tally())
    runner = CliRunner()
    for name, fmt in (("out.yaml", "cassette"), ("out.har", "har")):
        result = runner.invoke(tapes_group, ["export", str(folder), "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert f"exported 11 tape(s) to {tmp_path / name} ({fmt})" in result.output
        back = list(read_source(tmp_path / name))
        assert sorted(e.response.status for e in back if e.response) == [200] * 10 + [422]
        echo = [e for e in back if "flickr.test.echo" in e.request.target]
        assert echo and all(e.response and "REDACTED" in e.response.text() for e in echo)
