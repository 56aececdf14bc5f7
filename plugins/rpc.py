"""The `rpc` plugin: any RPC-over-HTTP API in REST form, described by a YAML file.

    restscope capture traffic.har --plugin rpc --plugin-config examples/rpc-slack.yaml

The file (see examples/rpc-*.yaml) gives:
- `endpoint`: `hosts`, and `paths` (exact, trailing slash ignored) and/or `path_pattern`;
- `operation`: where the operation name is: `params` (names) looked up `in` the given
  locations, first found wins (default order form, multipart, json, query: a body value wins),
  or `path_pattern` with a named group `operation`; `strip_prefix`; `separator` (each one
  becomes a `/`); the path is `/` + the rest; `tag: first_segment | none`;
- `server`: the REST server URL (meta `server`);
- `credentials`: `params` and `prefixes` of credential parameters, `scheme` (the
  Authorization scheme word); they leave the parameters for one redacted Authorization header;
- `drop_params`: transport-only parameters to remove;
- `response`: `unwrap_jsonp`; `error`: `field` (JSON pointer) + `equals`, or `present`
  (pointer of an error object), with `code` and `message` pointers; `xml_error`: the same
  for XML answers with `@attr` / `child/@attr` paths on the root element;
- `statuses`: `codes` (error code -> HTTP status) and `default`.
The rewrite follows plugins.base (pure, noted, meta conventions). Unlike the flickr plugin, it
neither converts XML nor knows a method catalog.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from observe.exchange import Exchange, Note, Response
from plugins.answers import get_pointer, json_bytes, read_answer, with_json_body
from plugins.base import Plugin, PluginConfigError, Scope, check_keys, string_list
from plugins.params import FORM, JSON_BODY, MULTIPART, QUERY, remove_params, request_params
from plugins.redaction import REDACTED, Redactor

NAME = "rpc"
_WHERE = "rpc plugin config"
_LOCATIONS = (FORM, MULTIPART, JSON_BODY, QUERY)
_ABSENT = object()


@dataclass(frozen=True)
class ErrorRule:
    """Where an answer says it failed, and where its code and message are."""

    field: str = ""
    equals: Any = _ABSENT
    present: str = ""
    code: str = ""
    message: str = ""


def _mapping(config: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = config.get(key) or {}
    if not isinstance(value, dict):
        raise PluginConfigError(f"{_WHERE}: {key!r} must be a mapping, got {value!r}")
    return value


def _string(config: Mapping[str, Any], key: str, default: str = "") -> str:
    value = config.get(key, default)
    if not isinstance(value, str):
        raise PluginConfigError(f"{_WHERE}: {key!r} must be a string, got {value!r}")
    return value


def _error_rule(config: Mapping[str, Any], key: str) -> ErrorRule | None:
    section = _mapping(config, key)
    if not section:
        return None
    check_keys(section, ["field", "equals", "present", "code", "message"], f"{_WHERE} {key}")
    rule = ErrorRule(field=_string(section, "field"), equals=section.get("equals", _ABSENT),
                     present=_string(section, "present"), code=_string(section, "code"),
                     message=_string(section, "message"))
    if not (rule.field and rule.equals is not _ABSENT) and not rule.present:
        raise PluginConfigError(f"{_WHERE}: {key} needs `field` and `equals`, or `present`")
    return rule


def _pattern(text: str, what: str) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise PluginConfigError(f"{_WHERE}: {what} {text!r} is not a regex: {exc}") from exc


def _same(found: Any, expected: Any) -> bool:
    """YAML `equals` against a JSON value: booleans only equal booleans, else compare text."""
    if isinstance(found, bool) or isinstance(expected, bool):
        return found is expected
    return str(found) == str(expected)


def _xml_value(root: ET.Element, path: str) -> str | None:
    element_path, _, attribute = path.partition("@")
    element_path = element_path.rstrip("/")
    element = root.find(element_path) if element_path else root
    if element is None:
        return None
    return element.get(attribute) if attribute else (element.text or "")


class RpcPlugin(Plugin):
    """A declarative RPC -> REST rewriter (see the module docstring for the YAML keys)."""

    name = NAME
    drop_reason = "never drops"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        c = self.config
        if not c:
            raise PluginConfigError(
                "the rpc plugin needs a description of the API: --plugin-config api.yaml "
                "(see examples/rpc-flickr.yaml and examples/rpc-slack.yaml)")
        check_keys(c, ["api", "endpoint", "operation", "server", "credentials",
                       "drop_params", "response", "statuses"], _WHERE)
        self.api = _string(c, "api", "rpc")
        endpoint = _mapping(c, "endpoint")
        check_keys(endpoint, ["hosts", "paths", "path_pattern"], f"{_WHERE} endpoint")
        hosts = string_list(endpoint, "hosts", _WHERE)
        if not hosts:
            raise PluginConfigError(f"{_WHERE}: endpoint.hosts is required")
        self.paths = frozenset(p.rstrip("/") or "/" for p in string_list(endpoint, "paths",
                                                                          _WHERE))
        self.scope = Scope.of(hosts, path_patterns=[_string(endpoint, "path_pattern")]
                              if endpoint.get("path_pattern") else [])
        operation = _mapping(c, "operation")
        check_keys(operation, ["params", "in", "path_pattern", "strip_prefix", "separator",
                               "tag"], f"{_WHERE} operation")
        self.op_params = string_list(operation, "params", _WHERE)
        self.op_in = string_list(operation, "in", _WHERE) or list(_LOCATIONS)
        if unknown := set(self.op_in) - set(_LOCATIONS):
            raise PluginConfigError(f"{_WHERE}: operation.in: unknown {sorted(unknown)}")
        self.op_pattern = _pattern(_string(operation, "path_pattern"), "operation.path_pattern")
        if self.op_pattern is None and not self.op_params:
            raise PluginConfigError(f"{_WHERE}: operation needs `params` or `path_pattern`")
        if self.op_pattern is not None and "operation" not in self.op_pattern.groupindex:
            raise PluginConfigError(f"{_WHERE}: operation.path_pattern needs (?P<operation>...)")
        self.strip_prefix = _string(operation, "strip_prefix")
        self.separator = _string(operation, "separator", ".")
        self.tag_rule = _string(operation, "tag", "first_segment")
        self.server = _string(c, "server")
        credentials = _mapping(c, "credentials")
        check_keys(credentials, ["params", "prefixes", "scheme"], f"{_WHERE} credentials")
        self.credential_names = frozenset(string_list(credentials, "params", _WHERE))
        self.credential_prefixes = tuple(string_list(credentials, "prefixes", _WHERE))
        self.scheme = _string(credentials, "scheme", "ApiKey")
        self.drop = frozenset(string_list(c, "drop_params", _WHERE))
        response = _mapping(c, "response")
        check_keys(response, ["unwrap_jsonp", "error", "xml_error"], f"{_WHERE} response")
        self.unwrap_jsonp = bool(response.get("unwrap_jsonp", False))
        self.error = _error_rule(response, "error")
        self.xml_error = _error_rule(response, "xml_error")
        statuses = _mapping(c, "statuses")
        check_keys(statuses, ["codes", "default"], f"{_WHERE} statuses")
        self.codes = {str(k): int(v) for k, v in _mapping(statuses, "codes").items()}
        self.default_status = int(statuses.get("default", 400))
        self.redactor = Redactor()

    def applies_to(self, exchange: Exchange) -> bool:
        request = exchange.request
        if not self.scope.matches(request.host, request.path):
            return False
        return not self.paths or (request.path.rstrip("/") or "/") in self.paths

    def is_credential(self, name: str) -> bool:
        return name in self.credential_names or name.startswith(self.credential_prefixes)

    def rewrite(self, exchange: Exchange) -> Exchange:
        request = exchange.request
        params = request_params(request)
        operation = ""
        if self.op_pattern is not None:
            match = self.op_pattern.search(request.path)
            operation = match.group("operation") if match else ""
        else:
            for location in self.op_in:
                values = [p.value for p in params
                          if p.location == location and p.name in self.op_params]
                if values:
                    operation = values[-1].strip()
                    break
        notes: list[Note] = []
        meta: dict[str, Any] = {"server": self.server} if self.server else {}
        credentials = list(dict.fromkeys(p.name for p in params if self.is_credential(p.name)))
        op_names = set(self.op_params)
        new_request = remove_params(
            request, lambda n: n in self.drop or n in op_names or self.is_credential(n))
        path = request.path
        if operation:
            path = "/" + operation.removeprefix(self.strip_prefix).replace(self.separator, "/")
            meta.update(operation_id=operation, path_fixed=True)
            if self.tag_rule == "first_segment":
                meta["tag"] = path.strip("/").split("/")[0]
        else:
            notes.append(Note(NAME, "request.target", f"{self.api}: no operation name",
                              "path kept"))
        query = new_request.query_string
        target = path + (f"?{query}" if query else "")
        if credentials and "authorization" not in new_request.headers:
            header = self.scheme + " " + ", ".join(f'{n}="{REDACTED}"' for n in credentials)
            new_request = new_request.evolve(
                headers=new_request.headers.with_added("Authorization", header))
            notes.append(Note(NAME, "request.headers.Authorization",
                              f"credentials in parameters: {', '.join(credentials)}", header))
            meta["security"] = [f"{self.api}_{n}" for n in credentials]
            meta["security_schemes"] = {f"{self.api}_{n}": {"type": "apiKey", "in": "query",
                                                            "name": n} for n in credentials}
        if new_request.body != request.body:
            notes.append(Note(NAME, "request.body", f"{len(request.body)} bytes",
                              "operation, credential and transport parameters removed"))
        if target != request.target:
            notes.append(Note(NAME, "request.target", self.redactor.redact_target(request.target),
                              target))
        result = exchange.evolve(request=new_request.evolve(target=target))
        if exchange.response is not None:
            result = result.evolve(response=self._rewrite_response(exchange.response, notes))
        return result.evolve(notes=(*result.notes, *notes)).with_meta(**meta)

    def _rewrite_response(self, response: Response, notes: list[Note]) -> Response:
        answer = read_answer(response)
        failed, code = False, None
        if answer.kind == "jsonp" and self.unwrap_jsonp:
            response = with_json_body(response, json_bytes(answer.value))
            notes.append(Note(NAME, "response.body", f"JSONP wrapped in {answer.callback}(...)",
                              "JSON"))
        if answer.kind in ("json", "jsonp") and self.error is not None:
            failed, code = self._json_error(answer.value, self.error)
        elif answer.kind == "xml" and self.xml_error is not None:
            failed, code = self._xml_error(answer.text, self.xml_error)
        if not failed or response.status != 200:
            return response
        status = self.codes.get(str(code), self.default_status) if code is not None \
            else self.default_status
        notes.append(Note(NAME, "response.status", str(response.status),
                          f"{status} ({self.api} error {code})"))
        return response.evolve(status=status, reason=HTTPStatus(status).phrase)

    @staticmethod
    def _json_error(value: Any, rule: ErrorRule) -> tuple[bool, Any]:
        if rule.present:
            failed = get_pointer(value, rule.present) is not None
        else:
            found = get_pointer(value, rule.field)
            failed = found is not None and _same(found, rule.equals)
        code = get_pointer(value, rule.code) if rule.code and failed else None
        return failed, code

    @staticmethod
    def _xml_error(text: str, rule: ErrorRule) -> tuple[bool, Any]:
        try:
            root = ET.fromstring(text.encode("utf-8"))
        except ET.ParseError:
            return False, None
        if rule.present:
            failed = _xml_value(root, rule.present) is not None
        else:
            failed = _xml_value(root, rule.field) == str(rule.equals)
        code = _xml_value(root, rule.code) if rule.code and failed else None
        return failed, code
