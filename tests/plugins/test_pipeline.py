"""The plugin chain (observe.pipeline): entry points, order, redaction last, drops counted,
failures reported or fatal under --strict, plugin config files."""

from __future__ import annotations

from pathlib import Path

import pytest

from observe.errors import InputError
from observe.exchange import Exchange
from observe.pipeline import PluginChain, PluginFailedError, load_plugin, read_plugin_config
from observe.tally import Tally
from plugins.base import Plugin
from plugins.redaction import REDACTED
from tests.plugins import craft


def _call() -> Exchange:
    return craft.get({"method": "flickr.photos.getInfo", "photo_id": "1",
                      "api_key": craft.API_KEY}, craft.json_response({"stat": "ok"}))


class Boom(Plugin):
    name = "boom"

    def rewrite(self, exchange: Exchange) -> Exchange | None:
        raise ValueError("kaput")


class Dropper(Plugin):
    name = "dropper"
    drop_reason = "not interesting"

    def rewrite(self, exchange: Exchange) -> Exchange | None:
        return None


def test_builtin_plugins_load_through_entry_points() -> None:
    for name in ("flickr", "rpc", "redact"):
        config = {"endpoint": {"hosts": ["x"]}, "operation": {"params": ["m"]}} \
            if name == "rpc" else {}
        assert load_plugin(name, config).name == name
    with pytest.raises(InputError, match="unknown plugin 'nope'"):
        load_plugin("nope")


def test_redaction_runs_last_by_default_and_can_be_turned_off() -> None:
    chain = PluginChain.build(["flickr"], Tally())
    assert [p.name for p in chain.plugins] == ["flickr", "redact"]
    out = chain.apply(_call())
    assert out is not None
    assert out.request.target == "/photos/getInfo?photo_id=1"
    assert out.notes[0].plugin == "flickr"
    assert [p.name for p in PluginChain.build(["flickr"], Tally(), redact=False).plugins] == [
        "flickr"]
    redacted = PluginChain.build([], Tally()).apply(_call())
    assert redacted is not None and f"api_key={REDACTED}" in redacted.request.target


def test_failures_are_reported_and_counted_or_fatal_when_strict() -> None:
    tally, messages = Tally(), list[str]()
    chain = PluginChain([Boom()], tally, report_error=messages.append)
    assert list(chain.run([_call(), _call()])) == []
    assert tally.skipped_of("exchange") == {"plugin boom failed": 2}
    assert "plugin boom failed on GET https://api.flickr.com/services/rest/" in messages[0]
    assert "ValueError: kaput" in messages[0]
    assert craft.API_KEY not in messages[0]  # printed before redaction runs: no query
    with pytest.raises(PluginFailedError, match="kaput"):
        PluginChain([Boom()], Tally(), strict=True).apply(_call())


class Leaky(Plugin):
    name = "leaky"

    def rewrite(self, exchange: Exchange) -> Exchange | None:
        raise ValueError(f"bad request {exchange.request.target}")


def test_a_failure_message_holds_no_secret_value_unless_redaction_is_off() -> None:
    messages = list[str]()
    chain = PluginChain([Leaky(), load_plugin("redact")], Tally(), report_error=messages.append)
    assert chain.apply(_call()) is None
    assert craft.API_KEY not in messages[0]
    assert f"api_key={REDACTED}" in messages[0]  # the exception's own text, scrubbed
    with pytest.raises(PluginFailedError) as caught:
        PluginChain([Leaky(), load_plugin("redact")], Tally(), strict=True).apply(_call())
    assert craft.API_KEY not in str(caught.value)
    unredacted = list[str]()
    PluginChain([Leaky()], Tally(), report_error=unredacted.append).apply(_call())
    assert craft.API_KEY in unredacted[0]  # --no-redact: the text as the plugin wrote it


def test_drops_are_counted_with_the_plugin_reason() -> None:
    tally = Tally()
    assert PluginChain([Dropper()], tally).apply(_call()) is None
    assert tally.skipped_of("exchange") == {"dropper: not interesting": 1}


def test_plugin_config_sections(tmp_path: Path) -> None:
    single = tmp_path / "one.yaml"
    single.write_text("extra_hosts: [proxy.local]\n")
    assert read_plugin_config(single, ["flickr", "redact"]) == {
        "flickr": {"extra_hosts": ["proxy.local"]}}
    both = tmp_path / "both.yaml"
    both.write_text("flickr:\n  extra_hosts: [p]\nredact:\n  names: [x-tenant]\n")
    assert read_plugin_config(both, ["flickr", "redact"]) == {
        "flickr": {"extra_hosts": ["p"]}, "redact": {"names": ["x-tenant"]}}
    bad = tmp_path / "bad.yaml"
    bad.write_text("hostz: [p]\n")
    with pytest.raises(InputError, match="unknown setting"):
        PluginChain.build(["flickr"], Tally(), config_path=bad)


class BadScope(Plugin):
    name = "badscope"

    def applies_to(self, exchange: Exchange) -> bool:
        raise KeyError("host")

    def rewrite(self, exchange: Exchange) -> Exchange | None:
        return exchange


def test_a_failing_scope_check_is_a_plugin_failure_too() -> None:
    tally = Tally()
    assert PluginChain([BadScope()], tally).apply(_call()) is None
    assert tally.skipped_of("exchange") == {"plugin badscope failed": 1}
