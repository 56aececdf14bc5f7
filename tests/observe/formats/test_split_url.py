"""`split_url`'s hand-written fast path splits exactly as `urllib.parse.urlsplit` does."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from observe.formats.common import split_url

pieces = st.text(alphabet="ab/?#&=:@%[]. \t\né+-_~1", max_size=12)


def _by_urlsplit(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.scheme or "http", parts.netloc, target


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:", ""]), pieces,
       pieces)
def test_split_url_matches_urlsplit(scheme: str, host: str, rest: str) -> None:
    url = scheme + host + rest
    try:
        expected = _by_urlsplit(url)
    except ValueError:
        return  # urlsplit refuses it: split_url raises RecordError there (tested elsewhere)
    assert split_url(url) == expected


def test_common_shapes() -> None:
    for url in ["https://api.flickr.com/services/rest/?method=a&b=c", "http://h", "http://h?x=1",
                "http://h/p?", "http://u:p@h:8080/a/b?c", "https://h/a?b#frag"]:
        assert split_url(url) == _by_urlsplit(url)
