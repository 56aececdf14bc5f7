"""Redaction: credentials in headers, query, form, multipart, JSON, JSONP and XML bodies,
compressed bodies, the value pass, idempotence, and the API other packages call."""

from __future__ import annotations

import gzip
import json

import pytest

from observe.exchange import Exchange, Note, Request, Response
from observe.headers import Headers
from plugins.params import split_multipart
from plugins.redaction import REDACTED, Redactor, RedactPlugin, is_secret_name
from tests.plugins import corpus, craft


@pytest.mark.parametrize("name", [
    "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "api_key",
    "apiKey", "key", "token", "auth_token", "access_token", "X-Auth-Token", "secret",
    "client_secret", "originalsecret", "password", "signature", "oauth_nonce", "api_sig",
    "session", "sessionid", "X-CSRF-Token",
])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "Content-Type", "Keep-Alive", "author", "authorname", "keywords", "monkey", "method",
    "photo_id", "x-account-nsid", "description", "server", "format",
])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_extra_names_are_configurable() -> None:
    assert not is_secret_name("x-tenant")
    assert Redactor(["X-Tenant"]).redact_value("x-tenant", "acme") == REDACTED
    assert RedactPlugin({"names": ["x-tenant"]}).redactor.is_secret("X-TENANT")


@pytest.mark.parametrize("name,value,expected", [
    ("Authorization", "Bearer abc.def.ghi", f"Bearer {REDACTED}"),
    ("Authorization", "Basic dXNlcjpwYXNz", f"Basic {REDACTED}"),
    ("Authorization", 'OAuth oauth_consumer_key="ck", oauth_signature="s%2F="',
     f'OAuth oauth_consumer_key="{REDACTED}", oauth_signature="{REDACTED}"'),
    ("Authorization", "rawtoken", REDACTED),
    ("Cookie", "a=1; b=2", f"a={REDACTED}; b={REDACTED}"),
    ("Cookie", "", ""),
    ("Set-Cookie", "BX=6i0; Path=/; Domain=.flickr.com",
     f"BX={REDACTED}; Path=/; Domain=.flickr.com"),
    ("X-Api-Key", "k-123", REDACTED),
    ("Referer", "https://x.example/p?api_key=k123&q=1", f"https://x.example/p?api_key={REDACTED}&q=1"),
    ("Accept", "application/json", "application/json"),
])
def test_redact_value(name: str, value: str, expected: str) -> None:
    assert Redactor().redact_value(name, value) == expected


def test_query_redaction_keeps_other_bytes() -> None:
    target = "/services/rest?=method=x&text=hello%20world&api_key=k1&oauth_token=t1"
    assert Redactor().redact_target(target) == (
        f"/services/rest?=method=x&text=hello%20world&api_key={REDACTED}&oauth_token={REDACTED}")
    assert Redactor().redact_target("/a?b=1&&c=2") == "/a?b=1&&c=2"


def test_form_multipart_and_json_request_bodies() -> None:
    redactor = Redactor()
    form = craft.post_form({}, {"tags": "sea", "api_key": craft.API_KEY,
                                "api_sig": craft.API_SIG})
    out = redactor.redact(form)
    assert out.request.body == f"tags=sea&api_key={REDACTED}&api_sig={REDACTED}".encode()
    assert out.request.headers.get("content-length") == str(len(out.request.body))

    upload = craft.post_multipart({"title": "t", "auth_token": craft.AUTH_TOKEN},
                                  {"photo": ("p.jpg", bytes(range(256)))})
    parts = split_multipart(redactor.redact(upload).request.body,
                            upload.request.content_type)
    assert parts is not None
    assert [(p.name, p.content) for p in parts] == [
        ("title", b"t"), ("auth_token", REDACTED.encode()), ("photo", bytes(range(256)))]

    body = json.dumps({"user": {"name": "a", "password": "hunter22", "tokens": ["x1", "x2"]},
                       "ok": True}).encode()
    request = Request(method="POST", target="/login", body=body,
                      headers=Headers([("Content-Type", "application/json")]))
    redacted = redactor.redact(Exchange(request)).request.json()
    assert redacted == {"user": {"name": "a", "password": REDACTED,
                                 "tokens": [REDACTED, REDACTED]}, "ok": True}


@pytest.mark.corpus
def test_flickr_echo_answer_in_gzip_is_redacted_and_stored_decoded() -> None:
    echo = corpus.read_yakbak(corpus.yakbak_dir() / "47d928014fb2f78a5180f44243152a31.js")
    out = Redactor().redact(echo)
    assert out.response is not None
    assert out.response.content_encoding == ""
    assert "content-encoding" not in out.response.headers
    assert out.response.headers.get("content-length") == str(len(out.response.body))
    body = out.response.json()
    assert body["api_key"] == {"_content": REDACTED}
    assert body["oauth_signature"] == {"_content": REDACTED}
    assert body["test"] == {"_content": "value"} and body["stat"] == "ok"
    assert any("gzip" in n.old and n.field == "response.body" for n in out.notes)


@pytest.mark.corpus
def test_corrupt_compressed_body_is_removed_with_a_note() -> None:
    tape = corpus.read_yakbak(corpus.yakbak_dir() / "4088174cfcabc0f0e8a0c1b6938bc229.js")
    out = Redactor().redact(tape)
    assert out.response is not None and out.response.body == b""
    assert any(n.new == "removed" for n in out.notes)


def test_jsonp_and_xml_answers() -> None:
    redactor = Redactor()
    jsonp = craft.text_response('jsonFlickrApi({"api_key":{"_content":"k12345"},"stat":"ok"})',
                                "text/javascript")
    out = redactor.redact(Exchange(Request(), jsonp))
    assert out.response is not None
    assert out.response.body == b'jsonFlickrApi({"api_key":{"_content":"REDACTED"},"stat":"ok"})'
    xml = craft.text_response('<rsp stat="ok"><method>flickr.test.echo</method>'
                              '<api_key>k12345</api_key><x secret="s1" a="b"/></rsp>', "text/xml")
    out = redactor.redact(Exchange(Request(), xml))
    assert out.response is not None
    text = out.response.text()
    assert "k12345" not in text and "s1" not in text and 'a="b"' in text


def test_value_pass_catches_copies_under_other_names() -> None:
    secret = "s3cr3t/value+1="
    request = Request.from_url("GET", f"https://h.example/p?api_key={secret}")
    answer = json.dumps({"echo": f"you sent {secret}", "url": "p?api_key=s3cr3t%2Fvalue%2B1%3D"})
    exchange = Exchange(request, craft.text_response(answer, "application/json"),
                        notes=(Note("x", "request.target", f"/p?api_key={secret}"),),
                        meta={"original": f"key was {secret}"})
    out = Redactor().redact(exchange)
    dumped = repr(out)
    assert secret not in dumped and "s3cr3t%2Fvalue%2B1%3D" not in dumped
    assert out.meta["original"] == f"key was {REDACTED}"


def test_redaction_is_idempotent_and_leaves_clean_exchanges_alone() -> None:
    redactor = Redactor()
    for exchange in [craft.post_form({"api_key": "k1"}, {"api_sig": "s1234567"},
                                     craft.json_response({"token": "abcdefgh"}))]:
        once = redactor.redact(exchange)
        assert redactor.redact(once) == once
    clean = craft.get({"method": "flickr.test.null"}, craft.json_response({"stat": "ok"}))
    assert redactor.redact(clean) == clean


def test_gzip_request_json_body_is_decoded_when_redacted() -> None:
    raw = gzip.compress(b'{"password": "p4ssw0rd!"}')
    request = Request(method="POST", target="/", body=raw, content_encoding="gzip",
                      headers=Headers([("Content-Type", "application/json"),
                                       ("Content-Encoding", "gzip"),
                                       ("Content-Length", str(len(raw)))]))
    out = Redactor().redact(Exchange(request, Response()))
    assert out.request.content_encoding == ""
    assert out.request.json() == {"password": REDACTED}
    assert out.request.headers.get("content-length") == str(len(out.request.body))


def test_location_fragment_tokens() -> None:
    value = "https://app.example/cb#access_token=abc123456&token_type=bearer&state=s"
    assert Redactor().redact_value("Location", value) == (
        f"https://app.example/cb#access_token={REDACTED}&token_type={REDACTED}&state=s")
