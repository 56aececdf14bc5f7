"""Acceptance 3: photos.getInfo and people.getInfo answered in XML and in JSON (all real, from
the corpus) have the same JSON shape after the plugin: the same type at every path both have.

The XML answers (2017-2024, Flickr Foundation cassettes and flickrapi fixtures) and the JSON
answers (2016 flickr-sdk tapes) are different calls on different accounts, so a few fields
exist in only one of them; those are listed, so any new difference fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest

from observe.exchange import Exchange
from plugins.flickr import FlickrPlugin
from tests.plugins import corpus

pytestmark = pytest.mark.corpus


def shape(value: Any, path: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
    out = {} if out is None else out
    if isinstance(value, dict):
        out[path or "/"] = "object"
        for key, inner in value.items():
            shape(inner, f"{path}/{key}", out)
    elif isinstance(value, list):
        out[path] = "array"
        for inner in value:
            shape(inner, f"{path}/*", out)
    else:
        out[path] = "number" if isinstance(value, int | float) else type(value).__name__
    return out


@pytest.fixture(scope="module")
def plugin() -> FlickrPlugin:
    return FlickrPlugin({"extra_hosts": ["fts.flickr.vip.bf1.yahoo.com"]})


def _json_answer(plugin: FlickrPlugin, method: str) -> dict[str, str]:
    for exchange in corpus.yakbak_exchanges():
        if f"method={method}&" in exchange.request.target + "&":
            out = plugin.rewrite(exchange)
            assert out.response is not None
            return shape(out.response.json())
    raise AssertionError(f"no JSON tape for {method}")


def _xml_answers(plugin: FlickrPlugin, method: str) -> list[dict[str, str]]:
    found: list[Exchange] = [
        e for e in corpus.cassette_exchanges()
        if f"method={method}&" in e.request.target + "&"
        and e.response is not None and b'stat="ok"' in e.response.body
    ]
    if method == "flickr.photos.getInfo":
        found.append(corpus.xml_exchange(method, corpus.flickrapi_fixtures()["PHOTO_XML"]))
    shapes = []
    for exchange in found:
        out = plugin.rewrite(exchange)
        assert out.response is not None
        assert out.response.headers.get("content-type") == "application/json"
        shapes.append(shape(out.response.json()))
    return shapes


@pytest.mark.parametrize("method,only_in_json", [
    ("flickr.photos.getInfo", {"/photo/safe"}),
    ("flickr.people.getInfo", {
        "/person/can_buy_pro", "/person/contact", "/person/family", "/person/friend",
        "/person/gender", "/person/ignored", "/person/ignoredby", "/person/revcontact",
        "/person/revfamily", "/person/revfriend", "/person/expire"}),
])
def test_xml_and_json_answers_have_the_same_shape(
    plugin: FlickrPlugin, method: str, only_in_json: set[str]
) -> None:
    from_json = _json_answer(plugin, method)
    xml_shapes = _xml_answers(plugin, method)
    assert len(xml_shapes) >= 2
    for from_xml in xml_shapes:
        common = set(from_json) & set(from_xml)
        assert {p: (from_json[p], from_xml[p]) for p in common
                if from_json[p] != from_xml[p]} == {}
        assert set(from_json) - set(from_xml) <= only_in_json
        assert len(common) >= 25


def test_known_list_elements_are_arrays_even_when_empty(plugin: FlickrPlugin) -> None:
    xml = ('<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="ok"><photo id="1" farm="5">'
           '<notes /><tags><tag id="t1" raw="sea">sea</tag></tags>'
           '<urls><url type="photopage">https://flickr.com/p/1</url></urls>'
           '<title>x</title><description /></photo></rsp>')
    out = plugin.rewrite(corpus.xml_exchange("flickr.photos.getInfo", xml))
    assert out.response is not None
    assert out.response.json() == {"photo": {
        "id": "1", "farm": 5, "notes": {"note": []},
        "tags": {"tag": [{"id": "t1", "raw": "sea", "_content": "sea"}]},
        "urls": {"url": [{"type": "photopage", "_content": "https://flickr.com/p/1"}]},
        "title": {"_content": "x"}, "description": {"_content": ""}}, "stat": "ok"}
