"""Hypothesis strategies for whole Exchanges, including the awkward corners of the model.

They cover: headers with any text, repeated and oddly cased names, HTTP/2 pseudo-headers;
bodies that are UTF-8, binary, or text in a declared charset; gzip/deflate/br bodies, corrupt
encoded bodies and decoded bodies under a Content-Encoding header; targets HAR URLs cannot
express; missing responses; partial timing; endpoints; notes; JSON-able meta.
"""

from __future__ import annotations

import gzip
import string
from typing import Any

from hypothesis import strategies as st

from observe.encoding import encode_content
from observe.exchange import Endpoint, Exchange, Note, Origin, Request, Response, Timing
from observe.headers import Headers

TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
texts = st.text(max_size=20)
names = st.text(alphabet=TOKEN, min_size=1, max_size=12) | st.sampled_from(
    [":authority", ":path", "Content-Type", "content-type", "Set-Cookie"]
)
headers = st.lists(st.tuples(names, texts), max_size=5).map(Headers)
times = st.none() | st.floats(min_value=0, max_value=4e9, allow_nan=False)
json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | texts
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
content_types = st.sampled_from(
    ["", "application/json", "text/plain; charset=iso-8859-1", "text/html; charset=utf-8",
     "application/octet-stream", "text/plain; charset=nonsense", "text/xml; charset=utf-16"]
)


@st.composite
def message_fields(draw: Any) -> dict[str, Any]:
    """Headers, body, content_encoding, version and trailers that belong together."""
    content_type = draw(content_types)
    fields = draw(headers)
    if content_type:
        fields = fields.with_set("Content-Type", content_type)
    payload = draw(st.binary(max_size=60) | texts.map(lambda t: t.encode("utf-8")))
    kind = draw(st.sampled_from(["plain", "encoded", "corrupt", "decoded-under-header"]))
    coding = draw(st.sampled_from(["gzip", "deflate", "br", "gzip, br"]))
    body, content_encoding = payload, ""
    if kind == "encoded":
        body, content_encoding = encode_content(payload, coding), coding
        fields = fields.with_set("Content-Encoding", coding)
    elif kind == "corrupt":
        body, content_encoding = gzip.compress(payload)[:-5] + b"!", "gzip"
        fields = fields.with_set("Content-Encoding", "gzip")
    elif kind == "decoded-under-header":
        fields = fields.with_set("Content-Encoding", "gzip")
    return {
        "headers": fields,
        "body": body,
        "content_encoding": content_encoding,
        "http_version": draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/3",
                                              "h2", ""])),
        "trailers": draw(st.just(Headers()) | headers),
    }


targets = (
    st.text(alphabet=string.ascii_letters + string.digits + "/?&=%-._~", max_size=20).map(
        lambda t: "/" + t
    )
    | st.sampled_from(["*", "/a?", "/#frag", "//double", "/p?q=1&q=2&empty="])
)
authorities = st.sampled_from(["", "example.com", "api.flickr.com:8443", "[::1]:8080",
                               "127.0.0.1"])


@st.composite
def requests(draw: Any) -> Request:
    return Request(
        method=draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "get", "PATCH"])),
        scheme=draw(st.sampled_from(["http", "https"])),
        authority=draw(authorities),
        target=draw(targets),
        **draw(message_fields()),
    )


@st.composite
def responses(draw: Any) -> Response:
    return Response(
        status=draw(st.integers(100, 599)), reason=draw(texts), **draw(message_fields())
    )


endpoints = st.none() | st.builds(
    Endpoint, st.sampled_from(["127.0.0.1", "::1", "10.0.0.4"]), st.integers(0, 65535)
)


@st.composite
def exchanges(draw: Any) -> Exchange:
    return Exchange(
        request=draw(requests()),
        response=draw(st.none() | responses()),
        timing=Timing(draw(times), draw(times), draw(times), draw(times)),
        client=draw(endpoints),
        server=draw(endpoints),
        origin=Origin(draw(st.sampled_from(["pcap", "har", "memory"])), draw(texts),
                      draw(st.integers(0, 10**6))),
        incomplete=draw(st.none() | texts),
        notes=tuple(draw(st.lists(st.builds(Note, texts, texts, texts, texts), max_size=2))),
        meta=draw(st.dictionaries(texts, json_values, max_size=3)),
    )
