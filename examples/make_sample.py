"""Record the embedded demo sample: Flickr-style API traffic on the loopback interface.

Runs a local HTTP/1.1 server that answers like Flickr's REST endpoint (JSON, JSONP and XML
formats, `stat="fail"` errors sent with HTTP 200, gzip on request, a multipart upload), drives
it with httpx over keep-alive connections, and sniffs the loopback interface with scapy into
`examples/flickr-sample.pcap`. Needs root (packet capture). The data is seeded, so a re-run
gives the same requests and bodies (packet timestamps and ports differ).

The sample is seeded with drift on purpose:
- `dates.taken` is a SQL datetime in most photo answers and free text ("circa 1950") in one;
- `photo.views` is a numeric string in most answers and an integer in a few.

    sudo .venv/bin/python examples/make_sample.py
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import quoteattr

import httpx
from scapy.all import AsyncSniffer, wrpcap  # type: ignore[import-untyped]

OUT = Path(__file__).with_name("flickr-sample.pcap")
API_KEY = "9f3c1e0b7d2a4c6e8f1a3b5c7d9e0f12"  # fake; must never appear in restscope output
AUTH_TOKEN = "72157600000000000-a1b2c3d4e5f60718"  # fake
API_SIG = "5d41402abc4b2a76b9719d911017c592"  # fake

rng = random.Random(20261123)

OWNERS = ["12037949754@N01", "35468159852@N01", "47445767@N05", "8245925@N03"]


def photo(photo_id: int, taken: str, views: object) -> dict[str, object]:
    return {
        "id": str(photo_id),
        "secret": f"{rng.getrandbits(40):010x}",
        "server": str(rng.randint(1000, 9999)),
        "farm": rng.randint(1, 9),
        "dateuploaded": str(1_400_000_000 + photo_id % 10_000_000),
        "owner": {"nsid": rng.choice(OWNERS), "username": rng.choice(["bees", "ana", "kfc"])},
        "title": {"_content": rng.choice(["Sunset", "Harbour", "Old mill", "雪"])},
        "visibility": {"ispublic": 1, "isfriend": 0, "isfamily": 0},
        "dates": {
            "posted": str(1_400_000_000 + photo_id % 1000),
            "taken": taken,
            "takengranularity": "0",
            "lastupdate": str(1_500_000_000 + photo_id % 1000),
        },
        "views": views,
        "urls": {"url": [{"type": "photopage",
                          "_content": f"https://www.flickr.com/photos/x/{photo_id}/"}]},
    }


def method_answer(method: str, params: dict[str, str], call_no: int) -> dict[str, object]:
    if method == "flickr.photos.getInfo":
        photo_id = int(params.get("photo_id", "0") or 0)
        if photo_id == 404:
            return {"stat": "fail", "code": 1, "message": "Photo \"404\" not found (invalid ID)"}
        taken = "circa 1950" if call_no == 7 else f"2014-0{call_no % 9 + 1}-06 12:34:56"
        views: object = call_no * 3 if call_no % 5 == 0 else str(call_no * 3)
        return {"photo": photo(photo_id, taken, views), "stat": "ok"}
    if method == "flickr.people.getInfo":
        nsid = params.get("user_id", OWNERS[0])
        return {"person": {"id": nsid, "nsid": nsid, "ispro": 0,
                           "username": {"_content": "bees"},
                           "photos": {"firstdatetaken": {"_content": "2004-11-19 12:51:19"},
                                      "count": {"_content": 3412}}}, "stat": "ok"}
    if method == "flickr.photos.search":
        page = int(params.get("page", "1") or 1)
        photos = [{"id": str(50_000_000_000 + page * 100 + i), "owner": rng.choice(OWNERS),
                   "secret": f"{rng.getrandbits(40):010x}", "server": "65535", "farm": 66,
                   "title": rng.choice(["elephants", "Elephant!", ""]), "ispublic": 1,
                   "isfriend": 0, "isfamily": 0} for i in range(rng.randint(2, 6))]
        return {"photos": {"page": page, "pages": 40, "perpage": 6, "total": 240,
                           "photo": photos}, "stat": "ok"}
    if method == "flickr.photos.comments.getList":
        return {"comments": {"photo_id": params.get("photo_id", ""), "comment": [
            {"id": "6065-109722179-72057594077818641", "author": OWNERS[1],
             "datecreate": "1141841470", "_content": "Nice one"}]}, "stat": "ok"}
    if method == "flickr.groups.getInfo":
        return {"stat": "fail", "code": 1, "message": "Group not found"}
    if method == "flickr.photos.addTags":
        return {"stat": "ok"}
    return {"stat": "fail", "code": 112, "message": f'Method "{method}" not found'}


def to_xml(answer: dict[str, object]) -> str:
    if answer.get("stat") == "fail":
        return (f'<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="fail">\n'
                f'\t<err code="{answer["code"]}" msg={quoteattr(str(answer["message"]))} />\n'
                f"</rsp>\n")
    inner = []
    for name, value in answer.items():
        if name != "stat" and isinstance(value, dict):
            attrs = " ".join(f"{k}={quoteattr(str(v))}" for k, v in value.items()
                             if not isinstance(v, dict | list))
            inner.append(f"\t<{name} {attrs} />")
    return '<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="ok">\n' + "\n".join(
        inner) + "\n</rsp>\n"


class FlickrHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    calls = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _params(self) -> dict[str, str]:
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        elif ctype.startswith("multipart/form-data"):
            params["_multipart"] = "1"
        return params

    def _answer(self) -> None:
        FlickrHandler.calls += 1
        params = self._params()
        path = urlsplit(self.path).path
        if path.startswith("/services/upload"):
            body = (b'<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="ok">\n'
                    b"<photoid>52000000001</photoid>\n</rsp>\n")
            return self._send(body, "text/xml; charset=utf-8")
        answer = method_answer(params.get("method", ""), params, FlickrHandler.calls)
        fmt = params.get("format", "rest")
        if fmt == "json":
            text = json.dumps(answer)
            if params.get("nojsoncallback") != "1":
                text = f"{params.get('jsoncallback', 'jsonFlickrApi')}({text})"
            ctype = "application/json; charset=utf-8"
        else:
            text, ctype = to_xml(answer), "text/xml; charset=utf-8"
        self._send(text.encode(), ctype)

    def _send(self, body: bytes, ctype: str) -> None:
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            body = gzip.compress(body, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "xb=812417; expires=Thu, 01-Jan-2037 00:00:00 GMT")
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer


def drive(base: str) -> int:
    """The fixed client script; returns the number of requests made."""
    count = 0
    creds = {"api_key": API_KEY}
    signed = {"api_key": API_KEY, "auth_token": AUTH_TOKEN, "api_sig": API_SIG}
    with httpx.Client(base_url=base, headers={"Host": "api.flickr.com",
                                              "Accept-Encoding": "identity"}) as client:
        for call in range(1, 13):
            params = {"method": "flickr.photos.getInfo", "photo_id": str(21300619575 + call),
                      "format": "json", "nojsoncallback": "1", **creds}
            client.get("/services/rest/", params=params)
            count += 1
        client.get("/services/rest/", params={"method": "flickr.photos.getInfo",
                                              "photo_id": "404", "format": "json",
                                              "nojsoncallback": "1", **creds})
        for page in range(1, 5):
            client.get("/services/rest/", params={"method": "flickr.photos.search",
                                                  "text": "elephants", "page": str(page),
                                                  "format": "json", **creds},
                       headers={"Accept-Encoding": "gzip"})
        for owner in OWNERS:
            client.get("/services/rest/", params={"method": "flickr.people.getInfo",
                                                  "user_id": owner, **creds})
        client.get("/services/rest/", params={"method": "flickr.photos.comments.getList",
                                              "photo_id": "109722179", "format": "json",
                                              "jsoncallback": "handleComments", **creds})
        client.get("/services/rest/", params={"method": "flickr.groups.getInfo",
                                              "group_id": "1234", "format": "json",
                                              "nojsoncallback": "1", **creds})
        client.post("/services/rest/", data={"method": "flickr.photos.addTags",
                                             "photo_id": "21300619576", "tags": "sea sunset",
                                             "format": "json", "nojsoncallback": "1",
                                             **signed})
        count += 4 + 4 + 1 + 1 + 1 + 1
    with httpx.Client(base_url=base, headers={"Host": "up.flickr.com"}) as client:
        client.post("/services/upload/", data={"title": "Harbour", **signed},
                    files={"photo": ("harbour.jpg", bytes(range(256)) * 8, "image/jpeg")})
        count += 1
    return count


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlickrHandler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready = threading.Event()
    sniffer = AsyncSniffer(iface="lo", filter=f"tcp port {port}", store=True,
                           started_callback=ready.set)
    sniffer.start()
    ready.wait(5)
    time.sleep(0.3)
    made = drive(f"http://127.0.0.1:{port}")
    time.sleep(0.5)
    sniffed = sniffer.stop()
    server.shutdown()
    socket.setdefaulttimeout(None)
    # on the loopback interface every packet is seen twice (leaving and arriving), back to back
    packets = [p for i, p in enumerate(sniffed) if i == 0 or bytes(p) != bytes(sniffed[i - 1])]
    wrpcap(str(OUT), packets)
    print(f"{made} requests, {len(packets)} packets -> {OUT}")


if __name__ == "__main__":
    main()
