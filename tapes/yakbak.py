"""Reading yakbak tapes (Node modules) as data, never as code.

A yakbak tape is a `.js` module whose leading block comment holds the request line and request
headers, and whose body calls `res.statusCode = N;`, `res.setHeader("name", value);` and
`res.write(new Buffer("...", "base64"));`. These statements are recognised with regular
expressions and their string literals parsed as JSON strings; anything else in the file is
ignored. Nothing is ever executed.

Invariants:
1. A file without a request line or a status code raises YakbakError (the importer counts it).
2. Body chunks are concatenated in file order; the body is kept as recorded (wire bytes) with
   its Content-Encoding, so a corrupt compressed body is imported raw, not dropped.
3. yakbak's own `x-yakbak-tape` response header is not part of the recorded response.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from observe.errors import InputError
from observe.exchange import Exchange, Origin, Request, Response
from observe.headers import Headers

_COMMENT = re.compile(r"/\*\*(.*?)\*/", re.S)
_REQUEST_LINE = re.compile(r"^([A-Z]+) (\S.*)$")
_STATUS = re.compile(r"res\.statusCode\s*=\s*(\d{3})\s*;")
_STRING = r'"(?:[^"\\]|\\.)*"'
_SET_HEADER = re.compile(
    rf"res\.setHeader\(\s*({_STRING})\s*,\s*({_STRING}|\[(?:\s*{_STRING}\s*,?)*\s*\])\s*\)", re.S
)
_WRITE = re.compile(
    rf"res\.write\(\s*(?:new\s+Buffer|Buffer\.from)\(\s*({_STRING})\s*,\s*\"(base64|utf8|hex)\"\s*\)"
)
YAKBAK_HEADER = "x-yakbak-tape"


class YakbakError(InputError):
    """A .js file that is not a yakbak tape this reader understands."""


def _js_string(literal: str) -> str:
    value = json.loads(literal)
    assert isinstance(value, str)
    return value


def parse_yakbak(text: str, where: str, scheme: str = "https") -> Exchange:
    """The exchange a yakbak tape recorded."""
    comment = _COMMENT.search(text)
    if comment is None:
        raise YakbakError(f"{where}: no leading comment with the request line")
    lines = [re.sub(r"^\s*\*\s?", "", line) for line in comment.group(1).splitlines()]
    lines = [line.rstrip() for line in lines]
    content = [line for line in lines if line.strip()]
    if not content:
        raise YakbakError(f"{where}: empty request comment")
    first = _REQUEST_LINE.match(content[0].strip())
    if first is None:
        raise YakbakError(f"{where}: no request line (METHOD /path) in the comment")
    method, target = first.group(1), first.group(2).strip()
    headers: list[tuple[str, str]] = []
    for line in content[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    status = _STATUS.search(text)
    if status is None:
        raise YakbakError(f"{where}: no res.statusCode assignment")
    response_headers: list[tuple[str, str]] = []
    try:
        for name_literal, value_literal in _SET_HEADER.findall(text):
            name = _js_string(name_literal)
            if name.lower() == YAKBAK_HEADER:
                continue
            value = json.loads(value_literal)
            for one in value if isinstance(value, list) else [value]:
                response_headers.append((name, str(one)))
        chunks = []
        for literal, kind in _WRITE.findall(text):
            data = _js_string(literal)
            if kind == "base64":
                chunks.append(base64.b64decode(data, validate=False))
            elif kind == "hex":
                chunks.append(bytes.fromhex(data))
            else:
                chunks.append(data.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise YakbakError(f"{where}: bad string literal ({exc})") from exc
    request_headers = Headers(headers)
    host = request_headers.get("host") or "localhost"
    response = Headers(response_headers)
    encoding = (response.get("content-encoding") or "").strip()
    return Exchange(
        request=Request(method=method, scheme=scheme, authority=host, target=target,
                        headers=request_headers),
        response=Response(status=int(status.group(1)), headers=response,
                          body=b"".join(chunks),
                          content_encoding="" if encoding == "identity" else encoding),
        origin=Origin("yakbak", where),
    )


def yakbak_files(path: Path) -> list[Path]:
    """The .js tapes in a yakbak folder (or the file itself)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.js") if p.is_file())
    return [path]


def is_yakbak_source(path: Path) -> bool:
    if path.suffix == ".js":
        return True
    return path.is_dir() and any(path.glob("*.js"))
