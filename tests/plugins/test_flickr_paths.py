"""Acceptance 1: every catalog method gets its REST path and operationId, and real calls from
the corpus (yakbak tapes, Flickr Foundation cassettes, flickrapi fixtures) are rewritten."""

from __future__ import annotations

import json

import pytest

from plugins.flickr import FlickrPlugin
from plugins.flickr.plugin import REST_SERVER
from tests.conftest import corpus_path
from tests.plugins import corpus, craft

YAKBAK_HOST = "fts.flickr.vip.bf1.yahoo.com"  # the host the flickr-sdk tapes were recorded at


@pytest.fixture(scope="module")
def plugin() -> FlickrPlugin:
    return FlickrPlugin({"extra_hosts": [YAKBAK_HOST]})


def catalog_methods() -> list[str]:
    folder = corpus_path("flickr_catalog", "flickr-sdk_reflection_getMethodInfo_2017")
    names = [json.loads(p.read_text())["method"]["name"] for p in sorted(folder.glob("*.json"))]
    assert len(names) == 218
    return names


def test_every_catalog_method_gets_a_rest_path_and_operation_id(plugin: FlickrPlugin) -> None:
    seen_paths = set()
    for method in catalog_methods():
        exchange = craft.get({"method": method, "api_key": craft.API_KEY, "format": "json",
                              "nojsoncallback": "1"}, craft.json_response({"stat": "ok"}))
        assert plugin.applies_to(exchange)
        out = plugin.rewrite(exchange)
        expected = "/" + method.removeprefix("flickr.").replace(".", "/")
        assert out.request.target == expected, method
        assert out.meta["operation_id"] == method
        assert out.meta["tag"] == method.split(".")[1]
        assert out.meta["server"] == REST_SERVER
        assert out.meta["path_fixed"] is True
        seen_paths.add(out.request.target)
    assert len(seen_paths) == 218  # no two methods collide


def test_catalog_table_covers_the_same_218_methods(plugin: FlickrPlugin) -> None:
    assert sorted(plugin.catalog.methods) == sorted(catalog_methods())


def test_comments_getlist_example_from_the_issue(plugin: FlickrPlugin) -> None:
    out = plugin.rewrite(craft.get({"method": "flickr.photos.comments.getList",
                                    "photo_id": "109722179"}))
    assert out.request.target == "/photos/comments/getList?photo_id=109722179"
    assert out.request.method == "GET"
    assert out.meta["tag"] == "photos"


@pytest.mark.corpus
def test_yakbak_tapes_become_rest_calls(plugin: FlickrPlugin) -> None:
    got: dict[str, object] = {}
    for exchange in corpus.yakbak_exchanges():
        if not plugin.applies_to(exchange):
            got[exchange.request.path] = None
            continue
        out = plugin.rewrite(exchange)
        got[out.request.path] = out.meta.get("operation_id")
    assert got == {
        "/photos/search": "flickr.photos.search",
        "/test/echo": "flickr.test.echo",
        "/people/getInfo": "flickr.people.getInfo",
        "/groups/getInfo": "flickr.groups.getInfo",
        "/photos/addView": "flickr.photos.addView",  # not in the 2017 catalog: generic rules
        "/photosets/getList": "flickr.photosets.getList",
        "/photos/getInfo": "flickr.photos.getInfo",
        # the malformed "?=method=flickr.photos.search" call: no method, path kept
        "/services/rest": None,
        # the internal REST v2 API is out of scope and passes untouched
        "/v2/tags/trending/2014/12/05": None,
    }


@pytest.mark.corpus
def test_cassette_calls_become_rest_calls(plugin: FlickrPlugin) -> None:
    methods = set()
    for exchange in corpus.cassette_exchanges():
        out = plugin.rewrite(exchange)
        method = out.meta["operation_id"]
        methods.add(method)
        assert out.request.path == "/" + method[len("flickr."):].replace(".", "/")
        assert "method=" not in out.request.target
    assert methods == {
        "flickr.galleries.getListForPhoto", "flickr.people.getInfo",
        "flickr.people.getPublicPhotos", "flickr.photos.getAllContexts",
        "flickr.photos.getExif", "flickr.photos.getInfo", "flickr.photos.getSizes",
        "flickr.photos.licenses.getInfo", "flickr.profile.getProfile", "flickr.test.null",
        "flickr.urls.lookupUser",
    }


@pytest.mark.corpus
def test_flickrapi_fixture_answers_are_converted(plugin: FlickrPlugin) -> None:
    fixtures = corpus.flickrapi_fixtures()
    photo = plugin.rewrite(corpus.xml_exchange("flickr.photos.getInfo", fixtures["PHOTO_XML"]))
    assert photo.response is not None
    body = photo.response.json()
    assert body["stat"] == "ok"
    assert body["photo"]["owner"]["username"] == "Sybren A. Stüvel"
    assert body["photo"]["farm"] == 9 and body["photo"]["views"] == "596"
    assert [t["_content"] for t in body["photo"]["tags"]["tag"]] == ["6x6", "hasselblad500cm"]
    search = plugin.rewrite(corpus.xml_exchange("flickr.photos.search",
                                                fixtures["KITTEN_SEARCH_XML"], "&text=kitten"))
    assert search.response is not None
    photos = search.response.json()["photos"]
    assert search.request.target == "/photos/search?text=kitten"
    assert len(photos["photo"]) == 100 and photos["page"] == 1
    assert photos["photo"][30]["title"] == "Kiku 菊"


def test_query_method_loses_to_a_body_method(plugin: FlickrPlugin) -> None:
    out = plugin.rewrite(craft.post_form({"method": "flickr.photos.getInfo"},
                                         {"method": "flickr.photos.addTags", "tags": "sea"}))
    assert out.request.path == "/photos/addTags"
    assert out.meta["operation_id"] == "flickr.photos.addTags"


def test_nsid_parameters_and_response_values_get_format_hints(plugin: FlickrPlugin) -> None:
    answer = {"person": {"id": "12037949754@N01", "nsid": "12037949754@N01",
                         "username": {"_content": "bees"}}, "stat": "ok"}
    out = plugin.rewrite(craft.get({"method": "flickr.people.getInfo",
                                    "user_id": "12037949754@N01"}, craft.json_response(answer)))
    assert out.meta["param_format_hints"] == {"user_id": "flickr-nsid"}
    assert out.meta["format_hints"] == {"/person/id": "flickr-nsid",
                                        "/person/nsid": "flickr-nsid"}


def test_paths_outside_rest_and_upload_pass_unchanged(plugin: FlickrPlugin) -> None:
    feed = craft.get({"format": "json", "tags": "cats"}, None, host="www.flickr.com",
                     path="/services/feeds/photos_public.gne")
    assert plugin.applies_to(feed)
    assert plugin.rewrite(feed) == feed
    other = craft.get({"method": "flickr.test.echo"}, host="example.com")
    assert not plugin.applies_to(other)


def test_nsid_hints_in_lists_use_one_pointer_per_field(plugin: FlickrPlugin) -> None:
    answer = {"photos": {"photo": [{"id": str(i), "owner": f"{i}@N01"} for i in range(50)]},
              "stat": "ok"}
    out = plugin.rewrite(craft.get({"method": "flickr.photos.search"},
                                   craft.json_response(answer)))
    assert out.meta["format_hints"] == {"/photos/photo/-/owner": "flickr-nsid"}


@pytest.mark.corpus
def test_current_method_names_outside_the_2017_catalog_work_too(plugin: FlickrPlugin) -> None:
    """flickr-sdk's 2023 method map names 223 methods; those the 2017 catalog lacks still get a
    path and an operationId by the generic rules (no argument table, no method error codes)."""
    import re

    text = corpus_path("flickr_catalog", "flickr-sdk__src_services_rest_api.ts").read_text()
    names = sorted(set(re.findall(r'"(flickr\.[A-Za-z.]+)"', text)))
    assert len(names) == 223
    newer = [n for n in names if plugin.catalog.method(n) is None]
    assert newer  # e.g. flickr.photos.addView
    for method in newer:
        out = plugin.rewrite(craft.get({"method": method}))
        assert out.request.path == "/" + method[len("flickr."):].replace(".", "/")
        assert out.meta["operation_id"] == method
        assert "param_required" not in out.meta
