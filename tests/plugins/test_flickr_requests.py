"""Acceptance 4: JSONP, POST form, multipart and upload/replace calls (crafted after Flickr's
documented formats, since the corpus has none), credentials and transport parameters."""

from __future__ import annotations

import json

import pytest

from plugins.flickr import FlickrPlugin
from plugins.flickr.plugin import UPLOAD_SERVER
from plugins.params import split_multipart
from plugins.redaction import REDACTED
from tests.plugins import craft

UPLOAD_OK = ('<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="ok">\n'
             "<photoid>52000000001</photoid>\n</rsp>\n")
PHOTO = bytes(range(256)) * 4  # binary, not UTF-8


@pytest.fixture(scope="module")
def plugin() -> FlickrPlugin:
    return FlickrPlugin({})


def test_jsonp_default_callback_is_unwrapped(plugin: FlickrPlugin) -> None:
    answer = {"photo": {"id": "1", "farm": 5}, "stat": "ok"}
    response = craft.text_response(f"jsonFlickrApi({json.dumps(answer)})", "text/javascript")
    out = plugin.rewrite(craft.get({"method": "flickr.photos.getInfo", "photo_id": "1",
                                    "format": "json", "api_key": craft.API_KEY}, response))
    assert out.request.target == "/photos/getInfo?photo_id=1"
    assert out.response is not None
    assert out.response.json() == answer
    assert out.response.headers.get("content-type") == "application/json"
    assert out.response.headers.get("content-length") == str(len(out.response.body))


def test_jsonp_custom_callback_and_failure(plugin: FlickrPlugin) -> None:
    answer = {"stat": "fail", "code": 1, "message": "Photo not found"}
    response = craft.text_response(f"handleComments({json.dumps(answer)});",
                                   "application/javascript")
    out = plugin.rewrite(craft.get({"method": "flickr.photos.comments.getList",
                                    "photo_id": "9", "format": "json",
                                    "jsoncallback": "handleComments"}, response))
    assert out.request.target == "/photos/comments/getList?photo_id=9"
    assert out.response is not None
    assert out.response.json() == answer
    assert out.response.status == 404  # comments.getList code 1 in the catalog: not found


def test_form_post_loses_method_credentials_and_format(plugin: FlickrPlugin) -> None:
    exchange = craft.post_form({}, {
        "method": "flickr.photos.addTags", "photo_id": "21300619576", "tags": "sea sunset",
        "format": "json", "nojsoncallback": "1", "api_key": craft.API_KEY,
        "auth_token": craft.AUTH_TOKEN, "api_sig": craft.API_SIG,
    }, craft.json_response({"stat": "ok"}))
    out = plugin.rewrite(exchange)
    assert out.request.method == "POST"
    assert out.request.target == "/photos/addTags"
    assert out.request.body == b"photo_id=21300619576&tags=sea+sunset"
    assert out.request.headers.get("content-length") == str(len(out.request.body))
    assert out.request.headers.get("authorization") == (
        f'FlickrAuth api_key="{REDACTED}", auth_token="{REDACTED}", api_sig="{REDACTED}"')
    assert out.meta["security"] == ["flickr_api_key", "flickr_api_sig", "flickr_auth_token"]
    assert out.meta["security_schemes"]["flickr_api_key"]["in"] == "query"
    assert out.meta["param_required"] == {"photo_id": True, "tags": True}
    fields = {n.field for n in out.notes if n.plugin == "flickr"}
    assert {"request.target", "request.body", "request.headers.Authorization"} <= fields


def test_oauth_query_parameters_become_an_oauth_header(plugin: FlickrPlugin) -> None:
    out = plugin.rewrite(craft.get({
        "method": "flickr.test.login", "oauth_consumer_key": "ck-0123456789",
        "oauth_token": "tok-0123456789", "oauth_signature": "sig-0123456789=",
        "oauth_nonce": "n0nce0123", "format": "json", "nojsoncallback": "1"}))
    assert out.request.target == "/test/login"
    header = out.request.headers.get("authorization") or ""
    assert header.startswith("OAuth oauth_consumer_key=")
    assert "0123456789" not in header + out.request.target
    assert out.meta["security"] == ["flickr_oauth"]
    target_note = next(n for n in out.notes if n.field == "request.target")
    assert "0123456789" not in target_note.old  # the old target is shown redacted
    assert "method=flickr.test.login" in target_note.old


def test_multipart_method_part_names_the_call(plugin: FlickrPlugin) -> None:
    exchange = craft.post_multipart(
        {"method": "flickr.photos.setMeta", "photo_id": "7", "title": "Harbour",
         "api_key": craft.API_KEY, "format": "json"}, {},
        craft.json_response({"stat": "ok"}), host="api.flickr.com", path="/services/rest/")
    out = plugin.rewrite(exchange)
    assert out.request.target == "/photos/setMeta"
    parts = split_multipart(out.request.body, out.request.content_type)
    assert parts is not None
    assert [p.name for p in parts] == ["photo_id", "title"]


@pytest.mark.parametrize("endpoint", ["upload", "replace"])
def test_upload_and_replace(plugin: FlickrPlugin, endpoint: str) -> None:
    fields = {"title": "Harbour", "api_key": craft.API_KEY, "auth_token": craft.AUTH_TOKEN,
              "api_sig": craft.API_SIG}
    if endpoint == "replace":
        fields = {"photo_id": "52000000001", **fields}
    exchange = craft.post_multipart(fields, {"photo": ("harbour.jpg", PHOTO)},
                                    craft.text_response(UPLOAD_OK, "text/xml; charset=utf-8"),
                                    path=f"/services/{endpoint}/")
    assert plugin.applies_to(exchange)
    out = plugin.rewrite(exchange)
    assert (out.request.method, out.request.target) == ("POST", f"/{endpoint}")
    assert out.meta["server"] == UPLOAD_SERVER
    assert out.meta["operation_id"] == f"flickr.{endpoint}"
    parts = split_multipart(out.request.body, out.request.content_type)
    assert parts is not None
    assert [p.name for p in parts] == [*(["photo_id"] if endpoint == "replace" else []),
                                       "title", "photo"]
    assert parts[-1].content == PHOTO  # the binary part is byte-exact
    assert out.response is not None
    assert out.response.json() == {"photoid": {"_content": "52000000001"}, "stat": "ok"}


def test_upload_failure_gets_a_status(plugin: FlickrPlugin) -> None:
    xml = ('<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="fail">\n'
           '\t<err code="2" msg="No photo specified" />\n</rsp>\n')
    exchange = craft.post_multipart({"title": "x"}, {},
                                    craft.text_response(xml, "text/xml; charset=utf-8"))
    out = plugin.rewrite(exchange)
    assert out.response is not None
    assert out.response.status == 400
    assert out.response.json() == {"stat": "fail", "code": 2, "message": "No photo specified"}


def test_gzip_xml_answer_is_stored_decoded(plugin: FlickrPlugin) -> None:
    import gzip

    response = craft.text_response(UPLOAD_OK, "text/xml")
    body = gzip.compress(response.body)
    response = response.evolve(body=body, content_encoding="gzip", headers=response.headers
                               .with_set("Content-Encoding", "gzip")
                               .with_set("Content-Length", str(len(body))))
    out = plugin.rewrite(craft.post_multipart({}, {}, response))
    assert out.response is not None
    assert out.response.content_encoding == ""
    assert "content-encoding" not in out.response.headers
    assert out.response.json()["photoid"] == {"_content": "52000000001"}


def test_config_is_checked() -> None:
    from observe.errors import InputError

    with pytest.raises(InputError, match="unknown setting"):
        FlickrPlugin({"hostz": ["x"]})


def test_oauth_authorization_header_is_kept_and_declared(plugin: FlickrPlugin) -> None:
    exchange = craft.get({"method": "flickr.test.login"})
    exchange = exchange.evolve(request=exchange.request.evolve(
        headers=exchange.request.headers.with_added(
            "Authorization", 'OAuth oauth_consumer_key="ck", oauth_signature="sig"')))
    out = plugin.rewrite(exchange)
    assert out.request.headers.get_all("authorization") == [
        'OAuth oauth_consumer_key="ck", oauth_signature="sig"']  # redaction's job, not ours
    assert out.meta["security"] == ["flickr_oauth"]
