"""Reading and replacing RPC answers: JSON, JSONP-wrapped JSON, XML, or something else.

Invariants:
1. Reading never raises: a body that cannot be decoded or parsed is reported as kind
   "unreadable" or "other" with the reason, and left for the caller to keep as it is.
2. `lenient_json` only looks for the fields that signal an error; it never becomes the body.
3. `with_json_body` stores the new body decoded (no Content-Encoding) with Content-Type
   application/json and a Content-Length that matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from observe.encoding import charset_of
from observe.errors import BodyError
from observe.exchange import Response

_JSONP = re.compile(r"^\s*(?:/\*\*/\s*)?([A-Za-z_$][\w$.]*)\s*\((.*)\)\s*;?\s*$", re.S)
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Answer:
    """A parsed answer: kind is json, jsonp, xml, empty, other or unreadable."""

    kind: str
    text: str = ""
    value: Any = None
    callback: str = ""
    problem: str = ""


def read_answer(response: Response) -> Answer:
    """The answer in `response`; JSON is parsed with `response.json()`, so the value is cached
    on the response and whoever reads it next (the summary) does not parse it again."""
    try:
        text = response.text()
    except BodyError:
        return _read_answer(response)  # step by step, to say what went wrong
    if text.lstrip().startswith(("{", "[")):
        try:
            return Answer("json", text, response.json())
        except BodyError:
            pass  # _read_answer gives the parser's message
    return _read_answer(response)


def _read_answer(response: Response) -> Answer:
    try:
        raw = response.decoded()
    except BodyError as exc:
        return Answer("unreadable", problem=str(exc))
    if not raw.strip():
        return Answer("empty")
    try:
        text = raw.decode(charset_of(response.content_type) or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        return Answer("unreadable", problem=f"not text: {exc}")
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return Answer("xml", text)
    if stripped.startswith(("{", "[")):
        try:
            return Answer("json", text, json.loads(text))
        except json.JSONDecodeError as exc:
            return Answer("other", text, problem=f"not valid JSON: {exc}")
    match = _JSONP.match(text)
    if match:
        try:
            value = json.loads(match.group(2))
        except json.JSONDecodeError as exc:
            return Answer("other", text, problem=f"JSONP with invalid JSON: {exc}")
        return Answer("jsonp", text, value, match.group(1))
    return Answer("other", text, problem="neither JSON, JSONP nor XML")


def lenient_json(text: str) -> Any:
    """The first JSON value in `text`, ignoring what follows (e.g. a trailing comma)."""
    try:
        value, _ = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError:
        return None
    return value


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def with_json_body(response: Response, body: bytes) -> Response:
    headers = response.headers.without("content-encoding").with_set("Content-Type", JSON_TYPE)
    if "content-length" in headers:
        headers = headers.with_set("Content-Length", str(len(body)))
    return response.evolve(body=body, content_encoding="", headers=headers)


def with_json_type(response: Response) -> Response:
    if response.mime_type == JSON_TYPE:
        return response
    return response.evolve(headers=response.headers.with_set("Content-Type", JSON_TYPE))


def json_pointer(parts: list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def get_pointer(value: Any, pointer: str) -> Any:
    """The value at a JSON pointer ('' is the whole value), or None when absent."""
    if pointer in ("", "/"):
        return value
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
