"""Writing and reading OpenAPI documents: YAML or JSON by file extension, validated first.

Invariants: output is deterministic (insertion order as built, which is sorted; no YAML
aliases; UTF-8; a trailing newline), and a document is validated with openapi-spec-validator
before it is written, so an invalid spec never reaches disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from observe.errors import InputError, RestscopeError


class SpecError(RestscopeError):
    """Base of the errors the specs package raises on purpose."""


class InvalidSpecError(SpecError):
    """An inferred document that openapi-spec-validator rejects (a restscope bug)."""


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def is_json_path(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() == ".json"


def dump_document(doc: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(doc, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True,
                     width=100, default_flow_style=False)


def validate_document(doc: dict[str, Any]) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(doc)
    except OpenAPIValidationError as exc:
        raise InvalidSpecError(f"the inferred spec is not valid OpenAPI: {exc.message}") from exc


def write_document(doc: dict[str, Any], path: Path | None) -> str:
    """Validate, then write to `path` (stdout when None); returns the text."""
    validate_document(doc)
    text = dump_document(doc, is_json_path(path))
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return text


def read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read spec ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text) if is_json_path(path) else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not valid {'JSON' if is_json_path(path) else 'YAML'}: "
                         f"{exc}") from exc
    if not isinstance(data, dict) or "paths" not in data:
        raise InputError(f"{path}: not an OpenAPI document (no `paths`)")
    return data
