"""The Flickr Swagger 2.0 file from the corpus as an OpenAPI 3.0 document, and edits of it
that hurt clients the way real API changes do. Shared by the diff and check tests."""

from __future__ import annotations

import copy
import json
from typing import Any

from specs.diffing.swagger2 import convert_swagger2
from tests.conftest import corpus_path

GET_SIZES = "/rest?method=flickr.photos.getSizes"
SEARCH = "/rest?method=flickr.photos.search"
FAVORITES = "/rest?method=flickr.favorites.getList"
EXIF = "/rest?method=flickr.photos.getExif"
UPLOAD = "/upload"


def flickr_openapi() -> dict[str, Any]:
    path = corpus_path("flickr_catalog", "flickr-api-swagger__dist_schema.json")
    return convert_swagger2(json.loads(path.read_text("utf-8")))


def _param(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["name"] == name)


def hurt_clients(spec: dict[str, Any]) -> dict[str, Any]:
    """Six edits, each of which breaks (or warns) some client of the Flickr API."""
    new = copy.deepcopy(spec)
    paths, schemas = new["paths"], new["components"]["schemas"]
    del paths[EXIF]  # an endpoint retired
    schemas["Size"]["properties"]["width"] = {"type": "string"}  # number -> string
    del schemas["Owner"]["properties"]["realname"]  # a field clients display
    _param(paths[SEARCH]["get"], "text")["required"] = True  # search now needs text
    _param(paths[FAVORITES]["get"], "per_page")["schema"]["maximum"] = 100
    form = paths[UPLOAD]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    form["properties"]["is_public"]["enum"] = ["1"]  # "0" no longer accepted
    return new


def reorder_keys(value: Any) -> Any:
    """The same document with every mapping's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reorder_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reorder_keys(v) for v in value]
    return value
