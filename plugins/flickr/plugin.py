"""The `flickr` plugin: Flickr's RPC-over-HTTP API rewritten into the REST API it really is.

Scope: api.flickr.com, www.flickr.com, secure.flickr.com under /services/, and up.flickr.com
(config `hosts` replaces the first set, `extra_hosts` adds to it, e.g. a recording proxy's
host name). In scope:
- `/services/rest`: `method` (query, form or multipart; a body value wins) becomes the path,
  `flickr.photos.comments.getList` -> `/photos/comments/getList`, verb kept; meta gets
  operation_id (the method), tag (its first segment), server, path_fixed;
- `/services/upload`, `/services/replace` -> `POST /upload`, `POST /replace`;
- `api_key`, `auth_token`, `api_sig`, `oauth_*` leave the parameters for one Authorization
  header (scheme OAuth, FlickrAuth or FlickrApiKey; values always redacted) and meta
  `security`/`security_schemes`; `format`, `nojsoncallback`, `jsoncallback` leave too;
- answers: JSON kept, JSONP unwrapped, XML converted to Flickr's JSON shape; Content-Type
  application/json; `stat="fail"` gets an HTTP status (see statuses.py); NSIDs become
  `format_hints` (response body) and `param_format_hints` (parameters).
Oddities, handled without failing: a call with no usable `method` (the corpus has
`?=method=...`) keeps its path and gets no operation_id, but is otherwise rewritten; other
paths in scope (`/services/oauth/...`, `/services/feeds/...`) and hosts out of scope (the
`/v2/` REST API) pass unchanged; an answer that is not JSON/XML (a corrupt body, broken
JSON) keeps its body, and its status is still mapped when an error can be read from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from observe.exchange import Exchange, Note, Request, Response
from plugins.answers import (
    json_bytes,
    lenient_json,
    read_answer,
    with_json_body,
    with_json_type,
)
from plugins.base import Plugin, check_keys, string_list
from plugins.flickr.catalog import Catalog, load_catalog
from plugins.flickr.statuses import status_for
from plugins.flickr.xmljson import NotFlickrXml, xml_to_json
from plugins.params import (
    JSON_BODY,
    QUERY,
    Param,
    body_kind,
    query_pieces,
    remove_params,
    request_params,
)
from plugins.redaction import REDACTED, Redactor

NAME = "flickr"
_MISSING = object()
REST_HOSTS = ("api.flickr.com", "www.flickr.com", "secure.flickr.com")
UPLOAD_HOSTS = ("up.flickr.com",)
REST_SERVER = "https://api.flickr.com/services/rest"
UPLOAD_SERVER = "https://up.flickr.com/services"
REST, UPLOAD, REPLACE = "/services/rest", "/services/upload", "/services/replace"
TRANSPORT_PARAMS = frozenset({"format", "nojsoncallback", "jsoncallback"})
CREDENTIAL_PARAMS = frozenset({"api_key", "auth_token", "api_sig"})
NSID = re.compile(r"^\d+@N\d\d$")
_METHOD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+$")

SECURITY_SCHEMES: Mapping[str, dict[str, str]] = {
    "flickr_api_key": {"type": "apiKey", "in": "query", "name": "api_key",
                       "description": "Flickr API key"},
    "flickr_auth_token": {"type": "apiKey", "in": "query", "name": "auth_token",
                          "description": "Flickr legacy authentication token"},
    "flickr_api_sig": {"type": "apiKey", "in": "query", "name": "api_sig",
                       "description": "Flickr legacy request signature"},
    "flickr_oauth": {"type": "http", "scheme": "OAuth",
                     "description": "OAuth 1.0a, parameters sent in the query or form"},
}


def _method_of(params: list[Param]) -> str:
    """The `method` parameter (a body value wins over the query's), or "" when unusable."""
    in_body = [p.value for p in params if p.name == "method" and p.location != QUERY]
    in_query = [p.value for p in params if p.name == "method" and p.location == QUERY]
    candidates = in_body or in_query
    method = candidates[-1].strip() if candidates else ""
    return method if _METHOD.match(method) else ""


def is_credential(name: str) -> bool:
    return name in CREDENTIAL_PARAMS or name.startswith("oauth_")


def method_path(method: str) -> str:
    """`flickr.photos.comments.getList` -> `/photos/comments/getList`."""
    return "/" + method.removeprefix("flickr.").replace(".", "/")


def _scheme_names(names: list[str]) -> list[str]:
    found = set()
    for name in names:
        if name.startswith("oauth_"):
            found.add("flickr_oauth")
        elif name in CREDENTIAL_PARAMS:
            found.add(f"flickr_{name}")
    return sorted(found)


def _authorization(names: list[str]) -> str:
    if any(n.startswith("oauth_") for n in names):
        scheme = "OAuth"
    elif "auth_token" in names or "api_sig" in names:
        scheme = "FlickrAuth"
    else:
        scheme = "FlickrApiKey"
    unique = list(dict.fromkeys(names))
    return scheme + " " + ", ".join(f'{n}="{REDACTED}"' for n in unique)


def _escape(key: Any) -> str:
    text = key if type(key) is str else str(key)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def _may_hold_nsid(response: Response) -> bool:
    """False when the body's bytes show no NSID can be in it (no `@N`, no escapes), so the
    walk of `nsid_pointers` can be skipped."""
    if response.content_encoding:
        return True
    body = response.body
    return b"@N" in body or b"\\u" in body


def nsid_pointers(value: Any) -> dict[str, str]:
    """JSON pointers of the NSID strings in a JSON value, array items written as `-` (any
    item), so a 500-photo page gives one hint per field, not 500."""
    found: dict[str, str] = {}
    match = NSID.match

    def leaf(node: Any, pointer: str) -> None:
        kind = type(node)
        if kind is dict or kind is list:
            walk(node, pointer)
        elif kind is str:
            if "@N" in node and match(node):
                found[pointer] = "flickr-nsid"
        elif isinstance(node, (dict, list)):
            walk(node, pointer)
        elif isinstance(node, str) and "@N" in node and match(node):
            found[pointer] = "flickr-nsid"

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            for key, inner in node.items():
                kind = type(inner)
                if kind is str:
                    if "@N" in inner and match(inner):
                        found[pointer + "/" + _escape(key)] = "flickr-nsid"
                elif kind is dict or kind is list:
                    walk(inner, pointer + "/" + _escape(key))
                elif kind is int or kind is float or kind is bool or inner is None:
                    continue
                else:
                    leaf(inner, pointer + "/" + _escape(key))
        elif isinstance(node, list):
            inner_pointer = pointer + "/-"
            for inner in node:
                kind = type(inner)
                if kind is str:
                    if "@N" in inner and match(inner):
                        found[inner_pointer] = "flickr-nsid"
                elif kind is dict or kind is list:
                    walk(inner, inner_pointer)
                elif kind is int or kind is float or kind is bool or inner is None:
                    continue
                else:
                    leaf(inner, inner_pointer)
        else:
            leaf(node, pointer)

    walk(value, "")
    return found


class FlickrPlugin(Plugin):
    """Flickr's RPC calls in REST form (see the module docstring for every rule)."""

    name = NAME
    drop_reason = "never drops"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        where = "flickr plugin config"
        check_keys(self.config, ["hosts", "extra_hosts"], where)
        hosts = string_list(self.config, "hosts", where) or list(REST_HOSTS)
        hosts += string_list(self.config, "extra_hosts", where)
        self.rest_hosts = frozenset(h.lower() for h in hosts)
        self.upload_hosts = frozenset(UPLOAD_HOSTS)
        self.catalog: Catalog = load_catalog()
        self.redactor = Redactor()
        # per-method and per-scheme-set meta values, worked out once (never changed after)
        self._required: dict[str, Any] = {}
        self._schemes: dict[tuple[str, ...], dict[str, dict[str, str]]] = {}

    def applies_to(self, exchange: Exchange) -> bool:
        host = exchange.request.host
        if host in self.upload_hosts:
            return True
        return host in self.rest_hosts and exchange.request.path.startswith("/services/")

    # --- the request ---------------------------------------------------------------------

    def rewrite(self, exchange: Exchange) -> Exchange:
        request = exchange.request
        endpoint = request.path.rstrip("/")
        if endpoint not in (REST, UPLOAD, REPLACE):
            return exchange
        kind = body_kind(request)
        params = request_params(request, kind)
        notes: list[Note] = []
        method = _method_of(params) if endpoint == REST else ""
        new_request = self._rewrite_request(request, endpoint, method, params, notes, kind)
        meta = self._request_meta(request, endpoint, method, params, notes)
        response = exchange.response
        if response is not None:
            response, body_value = self._rewrite_response(response, method, notes)
            hints = (nsid_pointers(body_value)
                     if body_value is not None and _may_hold_nsid(response) else {})
            if hints:
                meta["format_hints"] = hints
        merged = dict(exchange.meta)
        merged.update(meta)
        return exchange.evolve(request=new_request, response=response,
                               notes=(*exchange.notes, *notes), meta=merged)

    def _rewrite_request(self, request: Request, endpoint: str, method: str,
                         params: list[Param], notes: list[Note], kind: str) -> Request:
        """Method, credential and format parameters out; the path; the Authorization header."""
        if endpoint == REST:
            path = method_path(method) if method else request.path
            drop = TRANSPORT_PARAMS | {"method"}
        else:
            path, drop = "/" + endpoint.rsplit("/", 1)[1], TRANSPORT_PARAMS
        def dropped(name: str) -> bool:
            return name in drop or name in CREDENTIAL_PARAMS or name.startswith("oauth_")

        if kind:
            new = remove_params(request, dropped)
            query, headers = new.query_string, new.headers
        else:  # parameters in the query only: the request is built once, below
            new = None
            query = request.query_string
            pieces = query_pieces(query)
            kept = [raw for raw, name, _ in pieces if not dropped(name)]
            if len(kept) != len(pieces):  # as edit_query: untouched pieces stay byte-exact
                query = "&".join(kept)
            headers = request.headers
        credentials = list(dict.fromkeys(p.name for p in params if is_credential(p.name)))
        if credentials and "authorization" not in headers:
            header = _authorization(credentials)
            headers = headers.with_added("Authorization", header)
            notes.append(Note(NAME, "request.headers.Authorization",
                              f"credentials in parameters: {', '.join(credentials)}", header))
        if new is not None and new.body != request.body:
            notes.append(Note(NAME, "request.body", f"{len(request.body)} bytes",
                              "method, credential and format parameters removed"))
        target = path + (f"?{query}" if query else "")
        if target != request.target:
            notes.append(Note(NAME, "request.target", self.redactor.redact_target(request.target),
                              target))
        return (new or request).evolve(target=target, headers=headers)

    def _request_meta(self, request: Request, endpoint: str, method: str,
                      params: list[Param], notes: list[Note]) -> dict[str, Any]:
        """operation_id, tag, server, path_fixed, security, parameter facts."""
        meta: dict[str, Any] = {"server": REST_SERVER if endpoint == REST else UPLOAD_SERVER}
        if method:
            meta.update(operation_id=method, tag=method.removeprefix("flickr.").split(".")[0],
                        path_fixed=True)
            required = self._required.get(method, _MISSING)
            if required is _MISSING:
                info = self.catalog.method(method)
                required = (None if info is None else
                            {n: r for n, r in info.args if not is_credential(n)})
                self._required[method] = required
            if required is not None:
                meta["param_required"] = required  # shared: meta values are read-only
        elif endpoint != REST:
            operation = endpoint.rsplit("/", 1)[1]
            meta.update(operation_id=f"flickr.{operation}", tag="upload", path_fixed=True)
        else:
            notes.append(Note(NAME, "request.target", "no usable method parameter",
                              "path kept"))
        schemes = _scheme_names([p.name for p in params if is_credential(p.name)])
        existing = (request.headers.get("authorization") or "").split(" ", 1)[0].lower()
        if existing == "oauth":  # OAuth sent as a header already (RFC 5849 3.5.1)
            schemes = sorted({*schemes, "flickr_oauth"})
        if schemes:
            meta["security"] = schemes
            key = tuple(schemes)
            described = self._schemes.get(key)
            if described is None:
                described = self._schemes[key] = {s: dict(SECURITY_SCHEMES[s]) for s in schemes}
            meta["security_schemes"] = described
        param_hints = {p.name: "flickr-nsid" for p in params
                       if p.location != JSON_BODY and NSID.match(p.value)}
        if param_hints:
            meta["param_format_hints"] = dict(sorted(param_hints.items()))
        return meta

    # --- the response --------------------------------------------------------------------

    def _rewrite_response(
        self, response: Response, method: str, notes: list[Note]
    ) -> tuple[Response, Any]:
        answer = read_answer(response)
        value: Any = None
        if answer.kind == "json":
            value = answer.value
            new = with_json_type(response)
        elif answer.kind == "jsonp":
            value = answer.value
            new = with_json_body(response, json_bytes(value))
            notes.append(Note(NAME, "response.body", f"JSONP wrapped in {answer.callback}(...)",
                              "JSON"))
        elif answer.kind == "xml":
            try:
                value = xml_to_json(answer.text, self.catalog.list_rules(method),
                                    self.catalog.number_rules(method))
            except NotFlickrXml as exc:
                notes.append(Note(NAME, "response.body", f"XML: {exc}", "kept as is"))
                return response, None
            new = with_json_body(response, json_bytes(value))
            notes.append(Note(NAME, "response.body", f"XML, {len(response.body)} bytes",
                              "JSON in Flickr's JSON shape"))
        else:
            if answer.kind != "empty":
                notes.append(Note(NAME, "response.body", f"{answer.kind}: {answer.problem}",
                                  "kept as is"))
            error = lenient_json(answer.text) if answer.text else None
            return self._map_status(response, method, error, notes), None
        if new.content_type != response.content_type:
            notes.append(Note(NAME, "response.headers.Content-Type",
                              response.content_type or "", new.content_type or ""))
        return self._map_status(new, method, value, notes), value

    def _map_status(
        self, response: Response, method: str, value: Any, notes: list[Note]
    ) -> Response:
        if not isinstance(value, dict) or value.get("stat") != "fail" or response.status != 200:
            return response
        raw_code = value.get("code")
        code = int(str(raw_code)) if str(raw_code).lstrip("-").isdigit() else None
        message = str(value.get("message", ""))
        info = self.catalog.method(method) if method else None
        status, rule = status_for(code, message, info.error_status if info else None)
        notes.append(Note(NAME, "response.status", str(response.status),
                          f"{status} (Flickr error {raw_code}, {rule} rule)"))
        return response.evolve(status=status, reason=HTTPStatus(status).phrase)

