"""Checking one exchange against a spec: `Checker(spec).check(exchange) -> list[Finding]`.

Reports (rules in `specs.checking.rules`): an operation the spec lacks, an undocumented status
or media type, missing/unknown/invalid parameters, and body deviations (invalid values,
unknown and missing properties, format mismatches) with the JSON pointer of each.
`FindingTally` groups findings of many exchanges by (rule, location), counts them and keeps the
first exchange as the example.

Invariants:
1. Locations are generic (template paths, array indices as `-`), so one kind of deviation is one
   finding however often it is seen; the example holds the concrete pointer and value.
2. Examples are redacted: the target through `plugins.redaction.Redactor` (when importable)
   and any value under a secret-looking name replaced, long values shortened.
3. `check` never raises on bad traffic: undecodable bodies are findings, not errors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from observe.errors import BodyError
from observe.exchange import Exchange, Message
from specs.checking.matching import Match, OperationIndex
from specs.checking.rules import CHECK_RULES
from specs.checking.validation import BodyValidator, Deviation
from specs.diffing.findings import Finding, join_pointer
from specs.diffing.loading import SpecDocument
from specs.diffing.schemadiff import REQUEST, RESPONSE
from specs.diffing.schemaview import resolve_ref

_PLACEHOLDER = "REDACTED"
_SHOWN = 60


class _LocalRedactor:
    """Used only when `plugins.redaction` is not importable: hides secret-named values."""

    _WORDS = ("key", "token", "secret", "passw", "sig", "auth", "cookie", "session")

    def is_secret(self, name: str) -> bool:
        return any(word in name.lower() for word in self._WORDS)

    def redact_target(self, target: str) -> str:
        path, sep, query = target.partition("?")
        pairs = [(k, _PLACEHOLDER if self.is_secret(k) else v)
                 for k, v in parse_qsl(query, keep_blank_values=True)]
        return path + (sep + "&".join(f"{k}={v}" for k, v in pairs) if sep else "")


def _redactor() -> Any:
    try:
        from plugins.redaction import Redactor
    except ImportError:
        return _LocalRedactor()
    return Redactor()


def _generic_path(path: str) -> str:
    try:
        from specs.paths import path_key
    except ImportError:
        return path
    return path_key(path)[0]


def _deref(doc: dict[str, Any], value: Any, pointer: str) -> tuple[dict[str, Any], str]:
    target, target_pointer, _ = resolve_ref(doc, value, pointer)
    return (target if isinstance(target, dict) else {}), target_pointer


def _media_entry(content: dict[str, Any], mime: str) -> str | None:
    if mime in content:
        return mime
    major = mime.split("/", 1)[0]
    for candidate in (f"{major}/*", "*/*"):
        if candidate in content:
            return candidate
    if mime.endswith("+json") or mime == "application/json":
        return next((m for m in content if m.endswith("json")), None)
    return None


def _coerce(text: str, types: frozenset[str] | None) -> Any:
    """A query/form string as the JSON value its schema expects (or the string itself)."""
    if not types:
        return text
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


class Checker:
    """Checks exchanges against one spec; cheap per exchange (index and views are cached)."""

    def __init__(self, spec: SpecDocument) -> None:
        self.spec = spec
        self.index = OperationIndex(spec.data)
        self.validator = BodyValidator(spec.data)
        self.redactor = _redactor()
        self._lines: dict[str, int | None] = {}

    # --- findings ------------------------------------------------------------------------

    def _finding(self, rule: str, location: str, message: str, pointer: str,
                 example: str) -> Finding:
        if pointer not in self._lines:
            self._lines[pointer] = self.spec.line_of(pointer)
        return Finding(rule, CHECK_RULES[rule].severity, location, message, pointer=pointer,
                       file=self.spec.name, line=self._lines[pointer], example=example)

    def _show(self, name: str, value: Any) -> str:
        if self.redactor.is_secret(name):
            return _PLACEHOLDER
        if isinstance(value, str) and hasattr(self.redactor, "redact_value"):
            value = self.redactor.redact_value(name, value)  # e.g. URLs with secret queries
        if isinstance(value, dict):
            return "{" + f"{len(value)} keys" + "}"
        if isinstance(value, list):
            return f"[{len(value)} items]"
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= _SHOWN else text[:_SHOWN] + "...\""

    def _example(self, exchange: Exchange, detail: str = "") -> str:
        request = exchange.request
        status = exchange.response.status if exchange.response is not None else "no response"
        where = ""
        if exchange.origin.location:
            where = f" ({exchange.origin.location} #{exchange.origin.index})"
        target = self.redactor.redact_target(request.target)
        text = f"{request.method} {target} -> {status}{where}"
        return f"{text}; {detail}" if detail else text

    # --- the check -----------------------------------------------------------------------

    def check(self, exchange: Exchange) -> list[Finding]:
        request = exchange.request
        match = self.index.match(request.method, request.path, request.query)
        if match is None:
            path = request.path if exchange.meta.get("path_fixed") else _generic_path(
                request.path)
            rpc = [f"{k}={v}" for k, v in request.query if k in self.index.query_keys]
            if rpc:  # an RPC call: the method parameter names the operation
                path = f"{path}?{'&'.join(rpc)}"
            known = self.index.knows_path(request.path, request.query)
            message = (f"method {request.method} is not documented for this path" if known
                       else "no operation in the spec matches this request")
            return [self._finding("operation-unknown", f"{request.method.upper()} {path}",
                                  message, "/paths", self._example(exchange))]
        found: list[Finding] = []
        self._check_parameters(exchange, match, found)
        self._check_request_body(exchange, match, found)
        if exchange.response is not None:
            self._check_response(exchange, match, found)
        return found

    def _parameters(self, match: Match) -> list[tuple[dict[str, Any], str]]:
        by_key: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        item_pointer = join_pointer("/paths", match.template)
        for raw_list, base in ((match.path_item.get("parameters"),
                                join_pointer(item_pointer, "parameters")),
                               (match.operation.get("parameters"),
                                join_pointer(match.pointer, "parameters"))):
            for index, raw in enumerate(raw_list if isinstance(raw_list, list) else []):
                param, pointer = _deref(self.spec.data, raw, join_pointer(base, index))
                by_key[(str(param.get("in")), str(param.get("name")))] = (param, pointer)
        return list(by_key.values())

    def _check_parameters(self, exchange: Exchange, match: Match, found: list[Finding]) -> None:
        request = exchange.request
        query: dict[str, str] = {}
        for name, value in request.query:
            query.setdefault(name, value)
        template_query = {k for k, _ in self.index_query(match)}
        documented = set(template_query)
        for param, pointer in self._parameters(match):
            where, name = str(param.get("in")), str(param.get("name"))
            label = f"{match.label} parameter {where}:{name}"
            if where == "query":
                documented.add(name)
                value: str | None = query.get(name)
            elif where == "header":
                value = request.headers.get(name)
            elif where == "path":
                value = match.path_params.get(name)
            else:
                continue
            if value is None:
                sent_as_header = self.redactor.is_secret(name) and (
                    "authorization" in request.headers)
                if param.get("required") is True and not sent_as_header:
                    found.append(self._finding(
                        "request-parameter-missing", label,
                        f"required {where} parameter {name!r} was not sent", pointer,
                        self._example(exchange)))
                continue
            schema = param.get("schema")
            if not isinstance(schema, dict | bool):
                continue
            node = (schema, join_pointer(pointer, "schema"))
            coerced = _coerce(value, self.validator.view(node).types)
            for deviation in self.validator.validate(node, coerced, REQUEST):
                rule = ("request-format-mismatch" if deviation.kind == "format-mismatch"
                        else "request-parameter-invalid")
                found.append(self._finding(rule, label, deviation.message, pointer,
                                           self._example(exchange, f"{name}="
                                                         f"{self._show(name, value)}")))
        for name in sorted(set(query) - documented):
            if self.redactor.is_secret(name):
                continue  # credentials belong to security schemes, not parameters
            found.append(self._finding(
                "request-parameter-unknown", f"{match.label} parameter query:{name}",
                f"query parameter {name!r} is not in the spec", match.pointer,
                self._example(exchange)))

    def index_query(self, match: Match) -> list[tuple[str, str]]:
        """Query pairs fixed by an RPC-style template (`?method=...`): not parameters."""
        _, _, text = match.template.partition("?")
        return parse_qsl(text, keep_blank_values=True)

    def _body_value(self, message: Message) -> tuple[Any, str | None]:
        """(JSON value, None) or (None, why it cannot be read)."""
        try:
            if message.mime_type == "application/x-www-form-urlencoded":
                return dict(parse_qsl(message.text(), keep_blank_values=True)), None
            return message.json(), None
        except BodyError as exc:
            return None, str(exc)

    def _check_request_body(self, exchange: Exchange, match: Match,
                            found: list[Finding]) -> None:
        request = exchange.request
        if not request.body or "requestBody" not in match.operation:
            return
        body, pointer = _deref(self.spec.data, match.operation["requestBody"],
                               join_pointer(match.pointer, "requestBody"))
        content = body.get("content") if isinstance(body.get("content"), dict) else {}
        self._check_content(exchange, request, content, pointer, f"{match.label} request",
                            REQUEST, found)

    def _check_response(self, exchange: Exchange, match: Match, found: list[Finding]) -> None:
        response = exchange.response
        assert response is not None
        responses = match.operation.get("responses")
        responses = responses if isinstance(responses, dict) else {}
        keys = {str(k).upper(): k for k in responses}
        status = str(response.status)
        key = next((keys[k] for k in (status, f"{status[0]}XX", "DEFAULT") if k in keys), None)
        label = f"{match.label} response {status}"
        if key is None:
            found.append(self._finding(
                "status-unknown", label, f"status {status} is not documented",
                join_pointer(match.pointer, "responses"), self._example(exchange)))
            return
        documented, pointer = _deref(self.spec.data, responses[key],
                                     join_pointer(match.pointer, "responses", key))
        content = documented.get("content")
        if not response.body or not isinstance(content, dict) or not content:
            return
        self._check_content(exchange, response, content, pointer, label, RESPONSE, found)

    def _check_content(self, exchange: Exchange, message: Message, content: dict[str, Any],
                       pointer: str, label: str, direction: str, found: list[Finding]) -> None:
        mime = message.mime_type
        entry = _media_entry(content, mime)
        if entry is None:
            found.append(self._finding(
                f"{direction}-media-type-unknown", f"{label} {mime or '(no content-type)'}",
                f"media type {mime or '(none)'} is not documented", pointer,
                self._example(exchange)))
            return
        media = content[entry] if isinstance(content[entry], dict) else {}
        if "schema" not in media or not (message.is_json or mime.endswith("form-urlencoded")):
            return
        schema_pointer = join_pointer(pointer, "content", entry, "schema")
        value, error = self._body_value(message)
        if error is not None:
            found.append(self._finding(f"{direction}-body-invalid", f"{label} {entry}",
                                       f"body cannot be read: {error}", schema_pointer,
                                       self._example(exchange)))
            return
        node = (media["schema"], schema_pointer)
        if isinstance(value, dict) and mime.endswith("form-urlencoded"):
            view = self.validator.view(node)
            value = {k: _coerce(v, self.validator.view(view.properties[k]).types)
                     if k in view.properties else v for k, v in value.items()}
        for deviation in self.validator.validate(node, value, direction):
            found.append(self._deviation(exchange, deviation, direction, label, entry,
                                         schema_pointer))

    def _deviation(self, exchange: Exchange, deviation: Deviation, direction: str, label: str,
                   entry: str, pointer: str) -> Finding:
        rule = {"invalid": f"{direction}-body-invalid",
                "property-unknown": f"{direction}-property-unknown",
                "property-missing": f"{direction}-property-missing",
                "format-mismatch": f"{direction}-format-mismatch"}[deviation.kind]
        name = deviation.pointer.rsplit("/", 1)[-1]
        shown = "" if deviation.kind == "property-missing" else \
            f" = {self._show(name, deviation.value)}"
        return self._finding(rule, f"{label} {entry} {deviation.generic or '/'}",
                             deviation.message, pointer,
                             self._example(exchange, f"{deviation.pointer or '/'}{shown}"))


class FindingTally:
    """Findings of many exchanges grouped by (rule, location): a count and the first example."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], Finding] = {}

    def add(self, findings: list[Finding]) -> None:
        for finding in findings:
            key = (finding.rule, finding.location)
            known = self._groups.get(key)
            self._groups[key] = finding if known is None else replace(
                known, count=known.count + finding.count)

    def findings(self) -> list[Finding]:
        return sorted(self._groups.values(), key=Finding.sort_key)
