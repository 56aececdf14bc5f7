"""mitmproxy flow files (`mitmdump -w`), read through mitmproxy's own reader.

`mitmproxy.io.FlowReader` migrates every old flow format version (7, 11, 18, 20, ...) to the
current one, so this module only maps an `HTTPFlow` onto an Exchange. mitmproxy is imported
only when a flow file is read (it is slow to import).

Invariants:
1. Bodies are mitmproxy's `raw_content`: still content-encoded, with `content_encoding` from
   the Content-Encoding header, exactly as on the wire.
2. A flow without response gives `response=None`, incomplete "no response" (mitmproxy's error
   message in meta["error"]); a response whose body mitmproxy streamed without keeping it is
   incomplete "response body not recorded (streamed)"; any other flow error is incomplete
   "mitmproxy error: <message>".
3. Only HTTP flows are exchanges; TCP, UDP and DNS flows are counted as skipped by kind.
4. Truncation policy (as for pcap files): garbage or a cut in the first flow is an InputError;
   a cut in a later flow is counted as "truncated flow" and ends the file.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from observe.errors import InputError, TruncatedInputError
from observe.exchange import Endpoint, Exchange, Origin, Request, Response, Timing
from observe.formats.common import header_text, normalize_coding, open_binary, wanted
from observe.headers import Headers
from observe.sources import ReadOptions, register
from observe.tally import Tally

_TNETSTRING_DICT = re.compile(rb"\d{1,12}:\d{1,6}:[a-z_]")


def sniff(head: bytes, path: Path) -> bool:
    """A tnetstring dictionary: '<length>:<key length>:<key>...'."""
    return bool(_TNETSTRING_DICT.match(head))


@register("mitmproxy", sniff, "mitmproxy flow file (mitmdump -w), any format version")
def read_flows(path: Path, options: ReadOptions, tally: Tally) -> Iterator[Exchange]:
    """Every HTTP flow in the file at `path` as an Exchange, in file order."""
    from mitmproxy import exceptions, http, io

    with open_binary(path) as handle:
        flows = io.FlowReader(handle).stream()
        index = 0
        while True:
            try:
                flow = next(flows)
            except StopIteration:
                break
            except (exceptions.FlowReadException, EOFError, OSError, zlib.error,
                    KeyError, TypeError, ValueError) as exc:
                if index == 0:
                    error = TruncatedInputError if _looks_truncated(exc) else InputError
                    raise error(f"{path}: not a readable mitmproxy flow file ({exc})") from exc
                tally.skip("record", "truncated flow")
                break
            if not isinstance(flow, http.HTTPFlow):
                tally.skip("record", f"{getattr(flow, 'type', 'non-HTTP')} flow")
                index += 1
                continue
            exchange = flow_to_exchange(flow, str(path), index)
            index += 1
            if not wanted(options, exchange.request, tally):
                continue
            yield exchange
        if options.on_bytes:
            options.on_bytes(path.stat().st_size)


def _looks_truncated(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    return isinstance(cause, EOFError | IndexError) or "empty" in str(cause)


def _headers(fields: Any) -> Headers:
    if not fields:
        return Headers()
    return Headers((header_text(name), header_text(value)) for name, value in fields.fields)


def _endpoint(address: Any) -> Endpoint | None:
    if not address:
        return None
    return Endpoint(str(address[0]), int(address[1]))


def _authority(request: Any) -> str:
    if request.authority:
        return str(request.authority)
    if request.host_header:
        return str(request.host_header)
    default = 443 if request.scheme == "https" else 80
    return request.host if request.port == default else f"{request.host}:{request.port}"


def flow_messages(flow: Any) -> tuple[Request, Response | None]:
    """The request and the response (None when none came) of an `mitmproxy.http.HTTPFlow`;
    the live proxy builds its exchanges from these too."""
    req, resp = flow.request, flow.response
    request = Request(
        method=req.method,
        scheme=req.scheme,
        authority=_authority(req),
        target=req.path,
        headers=_headers(req.headers),
        body=req.raw_content or b"",
        content_encoding=normalize_coding(req.headers.get("content-encoding")),
        http_version=req.http_version,
        trailers=_headers(req.trailers),
    )
    response = None
    if resp is not None:
        response = Response(
            status=resp.status_code,
            reason=resp.reason,
            headers=_headers(resp.headers),
            body=resp.raw_content or b"",
            content_encoding=normalize_coding(resp.headers.get("content-encoding")),
            http_version=resp.http_version,
            trailers=_headers(resp.trailers),
        )
    return request, response


def flow_timing(flow: Any) -> Timing:
    req, resp = flow.request, flow.response
    return Timing(
        request_start=req.timestamp_start,
        request_end=req.timestamp_end,
        response_start=resp.timestamp_start if resp is not None else None,
        response_end=resp.timestamp_end if resp is not None else None,
    )


def flow_endpoints(flow: Any) -> tuple[Endpoint | None, Endpoint | None]:
    """(client, server) of a flow, None where mitmproxy does not know them."""
    return _endpoint(flow.client_conn.peername), _endpoint(flow.server_conn.peername)


def flow_to_exchange(flow: Any, location: str = "", index: int = 0) -> Exchange:
    """The Exchange an `mitmproxy.http.HTTPFlow` describes."""
    resp = flow.response
    request, response = flow_messages(flow)
    error = flow.error.msg if flow.error is not None else None
    meta: dict[str, Any] = {}
    if resp is None:
        incomplete: str | None = "no response"
        if error:
            meta["error"] = error
    elif resp.raw_content is None:
        incomplete = "response body not recorded (streamed)"
        if error:
            meta["error"] = error
    else:
        incomplete = f"mitmproxy error: {error}" if error else None
    client, server = flow_endpoints(flow)
    return Exchange(
        request=request,
        response=response,
        timing=flow_timing(flow),
        client=client,
        server=server,
        origin=Origin("mitmproxy", location, index),
        incomplete=incomplete,
        meta=meta,
    )
