"""Crafted Flickr exchanges, following Flickr's documented request formats, for cases the
corpus lacks (JSONP, form POST, multipart, upload/replace)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from observe.exchange import Exchange, Request, Response
from observe.headers import Headers

API_KEY = "0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "72157600000000000-a1b2c3d4e5f60718"
API_SIG = "5d41402abc4b2a76b9719d911017c592"
BOUNDARY = "----restscope-test-boundary"


def json_response(value: object, content_type: str = "application/json") -> Response:
    body = json.dumps(value).encode()
    return Response(status=200, body=body, headers=Headers(
        [("Content-Type", content_type), ("Content-Length", str(len(body)))]))


def text_response(text: str, content_type: str) -> Response:
    body = text.encode()
    return Response(status=200, body=body, headers=Headers(
        [("Content-Type", content_type), ("Content-Length", str(len(body)))]))


def get(params: dict[str, str], response: Response | None = None,
        host: str = "api.flickr.com", path: str = "/services/rest/") -> Exchange:
    request = Request(method="GET", scheme="https", authority=host,
                      target=f"{path}?{urlencode(params)}",
                      headers=Headers([("Host", host)]))
    return Exchange(request, response)


def post_form(query: dict[str, str], form: dict[str, str], response: Response | None = None,
              host: str = "api.flickr.com", path: str = "/services/rest/") -> Exchange:
    body = urlencode(form).encode()
    target = path + (f"?{urlencode(query)}" if query else "")
    request = Request(method="POST", scheme="https", authority=host, target=target, body=body,
                      headers=Headers([("Host", host),
                                       ("Content-Type", "application/x-www-form-urlencoded"),
                                       ("Content-Length", str(len(body)))]))
    return Exchange(request, response)


def multipart_body(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    out = b""
    for name, value in fields.items():
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    for name, (filename, data) in files.items():
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def post_multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]],
                   response: Response | None = None, host: str = "up.flickr.com",
                   path: str = "/services/upload/") -> Exchange:
    body = multipart_body(fields, files)
    request = Request(method="POST", scheme="https", authority=host, target=path, body=body,
                      headers=Headers([("Host", host),
                                       ("Content-Type",
                                        f"multipart/form-data; boundary={BOUNDARY}"),
                                       ("Content-Length", str(len(body)))]))
    return Exchange(request, response)
