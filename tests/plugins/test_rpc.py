"""The declarative `rpc` plugin: the Flickr example config against the flickr plugin on the
corpus (same paths, same statuses for the global codes), the Slack example, and config errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from observe.errors import BodyError, InputError
from observe.exchange import Exchange, Request
from observe.headers import Headers
from plugins.flickr import FlickrPlugin
from plugins.flickr.statuses import GLOBAL_STATUS
from plugins.rpc import RpcPlugin
from tests.plugins import corpus, craft

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
YAKBAK_HOST = "fts.flickr.vip.bf1.yahoo.com"


def example(name: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def flickr_rpc() -> RpcPlugin:
    config = example("rpc-flickr.yaml")
    config["endpoint"]["hosts"].append(YAKBAK_HOST)
    return RpcPlugin(config)


@pytest.fixture(scope="module")
def flickr() -> FlickrPlugin:
    return FlickrPlugin({"extra_hosts": [YAKBAK_HOST]})


def _apply(plugin: Any, exchange: Exchange) -> Exchange:
    return plugin.rewrite(exchange) if plugin.applies_to(exchange) else exchange


@pytest.mark.corpus
def test_same_paths_as_the_flickr_plugin_on_the_corpus(
    flickr_rpc: RpcPlugin, flickr: FlickrPlugin
) -> None:
    exchanges = corpus.yakbak_exchanges() + corpus.cassette_exchanges()
    assert len(exchanges) == 38  # 11 tapes, 27 cassette interactions
    for exchange in exchanges:
        by_rpc, by_flickr = _apply(flickr_rpc, exchange), _apply(flickr, exchange)
        assert by_rpc.request.target == by_flickr.request.target
        assert by_rpc.request.method == by_flickr.request.method
        assert by_rpc.meta.get("operation_id") == by_flickr.meta.get("operation_id")
        assert by_rpc.meta.get("tag") == by_flickr.meta.get("tag")


@pytest.mark.corpus
def test_same_statuses_for_global_codes_on_the_corpus(
    flickr_rpc: RpcPlugin, flickr: FlickrPlugin
) -> None:
    seen = set()
    for exchange in corpus.yakbak_exchanges() + corpus.cassette_exchanges():
        assert exchange.response is not None
        try:
            body = exchange.response.decoded()
        except BodyError:  # the corrupt-gzip tape: nothing to compare
            continue
        codes = {c for c in GLOBAL_STATUS if f'code="{c}"'.encode() in body
                 or f'"code":{c}'.encode() in body}
        if not codes:
            continue
        seen |= codes
        by_rpc, by_flickr = _apply(flickr_rpc, exchange), _apply(flickr, exchange)
        assert by_rpc.response is not None and by_flickr.response is not None
        assert by_rpc.response.status == by_flickr.response.status
    assert seen == {99, 100, 112}  # XML (99, 100) and JSON (112) answers


@pytest.mark.parametrize("code", sorted(GLOBAL_STATUS))
@pytest.mark.parametrize("answer_format", ["json", "xml", "jsonp"])
def test_every_global_code_in_every_format(
    flickr_rpc: RpcPlugin, flickr: FlickrPlugin, code: int, answer_format: str
) -> None:
    if answer_format == "xml":
        response = craft.text_response(
            f'<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="fail">\n'
            f'\t<err code="{code}" msg="message {code}" />\n</rsp>\n', "text/xml")
    else:
        text = json.dumps({"stat": "fail", "code": code, "message": f"message {code}"})
        response = (craft.text_response(f"jsonFlickrApi({text})", "text/javascript")
                    if answer_format == "jsonp" else craft.text_response(text, "text/plain"))
    exchange = craft.get({"method": "flickr.photos.getInfo", "photo_id": "1"}, response)
    by_rpc, by_flickr = flickr_rpc.rewrite(exchange), flickr.rewrite(exchange)
    assert by_rpc.response is not None and by_flickr.response is not None
    assert by_rpc.response.status == by_flickr.response.status == GLOBAL_STATUS[code]


def _slack(method: str, target: str, body: dict[str, Any] | None, answer: dict[str, Any],
           form: dict[str, str] | None = None) -> Exchange:
    headers = [("Host", "slack.com")]
    raw = b""
    if form is not None:
        from urllib.parse import urlencode

        raw = urlencode(form).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif body is not None:
        raw = json.dumps(body).encode()
        headers += [("Content-Type", "application/json; charset=utf-8"),
                    ("Authorization", "Bearer xoxb-1234567890-secret")]
    request = Request(method=method, scheme="https", authority="slack.com", target=target,
                      body=raw, headers=Headers(headers))
    return Exchange(request, craft.json_response(answer))


def test_slack_example_form_token_and_error() -> None:
    plugin = RpcPlugin(example("rpc-slack.yaml"))
    exchange = _slack("POST", "/api/chat.postMessage", None,
                      {"ok": False, "error": "channel_not_found"},
                      form={"token": "xoxp-1111-2222-secret", "channel": "C123", "text": "hi"})
    assert plugin.applies_to(exchange)
    out = plugin.rewrite(exchange)
    assert out.request.target == "/chat/postMessage"
    assert out.request.body == b"channel=C123&text=hi"
    assert out.request.headers.get("authorization") == 'Bearer token="REDACTED"'
    assert out.meta["operation_id"] == "chat.postMessage"
    assert out.meta["tag"] == "chat"
    assert out.meta["server"] == "https://slack.com/api"
    assert out.meta["security"] == ["slack_token"]
    assert out.response is not None and out.response.status == 404


def test_slack_example_json_body_success_and_unknown_error() -> None:
    plugin = RpcPlugin(example("rpc-slack.yaml"))
    ok = plugin.rewrite(_slack("POST", "/api/conversations.history", {"channel": "C1"},
                               {"ok": True, "messages": []}))
    assert ok.request.target == "/conversations/history"
    assert ok.request.headers.get("authorization") == "Bearer xoxb-1234567890-secret"  # kept
    assert ok.response is not None and ok.response.status == 200
    odd = plugin.rewrite(_slack("GET", "/api/users.info?user=U1", None,
                                {"ok": False, "error": "something_new"}))
    assert odd.request.target == "/users/info?user=U1"
    assert odd.response is not None and odd.response.status == 400  # the default
    assert not plugin.applies_to(_slack("GET", "/robots.txt", None, {}))


def test_error_object_presence_rule() -> None:
    """A JSON-RPC style API: operation in the JSON body, error signalled by an object."""
    plugin = RpcPlugin({
        "api": "node", "endpoint": {"hosts": ["rpc.example"], "paths": ["/"]},
        "operation": {"params": ["method"], "in": ["json"], "separator": "_"},
        "response": {"error": {"present": "/error", "code": "/error/code"}},
        "statuses": {"codes": {"-32601": 404, "-32602": 400}, "default": 500},
    })
    body = json.dumps({"jsonrpc": "2.0", "method": "eth_getBalance", "params": [], "id": 1})
    request = Request(method="POST", scheme="https", authority="rpc.example", target="/",
                      body=body.encode(), headers=Headers([("Content-Type", "application/json")]))
    answer = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "invalid argument"}}
    out = plugin.rewrite(Exchange(request, craft.json_response(answer)))
    assert out.request.target == "/eth/getBalance"
    assert json.loads(out.request.body) == {"jsonrpc": "2.0", "params": [], "id": 1}
    assert out.response is not None and out.response.status == 400


@pytest.mark.parametrize("config,message", [
    ({"endpoint": {"hosts": ["a"]}, "operation": {"params": ["m"]}, "colour": 1},
     "unknown setting"),
    ({"endpoint": {}, "operation": {"params": ["m"]}}, "endpoint.hosts is required"),
    ({"endpoint": {"hosts": ["a"]}, "operation": {}}, "needs `params` or `path_pattern`"),
    ({"endpoint": {"hosts": ["a"]}, "operation": {"path_pattern": "(x"}}, "not a regex"),
    ({"endpoint": {"hosts": ["a"]}, "operation": {"path_pattern": "x"}}, "(?P<operation>"),
    ({"endpoint": {"hosts": ["a"]}, "operation": {"params": ["m"]},
      "response": {"error": {"code": "/c"}}}, "`field` and `equals`"),
])
def test_bad_configs_are_input_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("?", r"\?")):
        RpcPlugin(config)


def test_rpc_without_config_says_what_to_pass() -> None:
    with pytest.raises(InputError, match="--plugin-config"):
        RpcPlugin({})
