"""Derive the compact Flickr method table (catalog.json) from the corpus.

    python -m plugins.flickr.derive_catalog [--corpus ../shared/corpus] [-o catalog.json]

(the corpus defaults to $RESTSCOPE_CORPUS, else ../shared/corpus beside the checkout)

Inputs (read in place, never copied):
- `flickr_catalog/flickr-sdk_reflection_getMethodInfo_2017/*.json`: flickr.reflection.getMethodInfo
  answers for 218 methods (flickr/flickr-sdk, MIT): arguments with their optional flags, errors
  with codes and messages, response examples in XML;
- `flickr_responses/json_yakbak_tapes_decoded/flickr.*.json`: real Flickr JSON answers
  (flickr/flickr-sdk test tapes, MIT), for which values Flickr's JSON gives as numbers.

Output, per method: `args` ([name, required]), `errors` ({code: [status, message]} for the
method's own codes, the status chosen by meaning, see statuses.py), `lists` (list element
pairs of its response example), `needslogin`/`needssigning`/`requiredperms`; and globally the
list element pairs of every example and the JSON number rules. The output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from plugins.flickr.statuses import GLOBAL_STATUS, status_for_message
from plugins.flickr.xmljson import list_pairs

REFLECTION = Path("flickr_catalog", "flickr-sdk_reflection_getMethodInfo_2017")
JSON_ANSWERS = Path("flickr_responses", "json_yakbak_tapes_decoded")
DEFAULT_CORPUS = Path(os.environ.get(
    "RESTSCOPE_CORPUS", Path(__file__).resolve().parents[2].parent / "shared" / "corpus"))
DEFAULT_OUTPUT = Path(__file__).with_name("catalog.json")


def _flag(value: Any) -> int:
    return int(str(value).strip() or 0)


def derive_method(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    method = data["method"]
    arguments = data.get("arguments", {}).get("argument", [])
    errors: dict[str, list[Any]] = {}
    for error in data.get("errors", {}).get("error", []):
        code = int(error["code"])
        if code in GLOBAL_STATUS:
            continue
        message = str(error.get("message", ""))
        status = status_for_message(message) or 400
        errors[str(code)] = [status, message]
    example = (method.get("response") or {}).get("_content", "") or ""
    entry = {
        "args": [[a["name"], _flag(a.get("optional", 1)) == 0] for a in arguments],
        "errors": dict(sorted(errors.items(), key=lambda kv: int(kv[0]))),
        "lists": sorted([list(p) for p in list_pairs(example)]) if example else [],
        "needslogin": _flag(method.get("needslogin", 0)),
        "needssigning": _flag(method.get("needssigning", 0)),
        "requiredperms": _flag(method.get("requiredperms", 0)),
    }
    return str(method["name"]), entry


def _walk_types(value: Any, path: str, out: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _walk_types(inner, f"{path}/{key}", out)
    elif isinstance(value, list):
        for inner in value:
            _walk_types(inner, f"{path}/*", out)
    elif isinstance(value, bool) or value is None:
        return
    else:
        out[path].add("number" if isinstance(value, int | float) else "string")


def derive_numbers(answers: list[tuple[str, Any]]) -> dict[str, Any]:
    """Per-method path types seen in real JSON answers, and names that are always numbers."""
    methods: dict[str, dict[str, str]] = {}
    by_name: dict[str, set[str]] = defaultdict(set)
    for method, body in answers:
        seen: dict[str, set[str]] = defaultdict(set)
        _walk_types(body, "", seen)
        paths = methods.setdefault(method, {})
        for path, kinds in seen.items():
            paths[path] = "number" if kinds == {"number"} else "string"
            by_name[path.rsplit("/", 1)[-1]].update(kinds)
    names = sorted(n for n, kinds in by_name.items() if kinds == {"number"})
    return {
        "methods": {m: dict(sorted(p.items())) for m, p in sorted(methods.items())},
        "names": names,
    }


def derive(corpus: Path) -> dict[str, Any]:
    folder = corpus / REFLECTION
    files = sorted(folder.glob("flickr.*.json"))
    if not files:
        raise SystemExit(f"no reflection files in {folder}")
    methods = dict(derive_method(json.loads(f.read_text(encoding="utf-8"))) for f in files)
    known = sorted({tuple(p) for m in methods.values() for p in m["lists"]})
    answers = []
    for path in sorted((corpus / JSON_ANSWERS).glob("flickr.*__*.json")):
        method = path.name.split("__", 1)[0]
        if method == "flickr.test.echo":  # echoes the request's parameters; not a shape
            continue
        answers.append((method, json.loads(path.read_text(encoding="utf-8"))))
    return {
        "about": "Derived by plugins/flickr/derive_catalog.py from flickr/flickr-sdk "
                 "reflection data (2017, MIT) and flickr-sdk test tapes (MIT).",
        "list_elements": [list(p) for p in known],
        "json_types": derive_numbers(answers),
        "methods": dict(sorted(methods.items())),
    }


def render(catalog: dict[str, Any]) -> str:
    """JSON with one method per line, so a change shows as a one-line diff."""
    lines = ["{"]
    for key in ("about", "list_elements", "json_types"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(catalog[key], sort_keys=True)},")
    lines.append('  "methods": {')
    items = list(catalog["methods"].items())
    for index, (name, entry) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(entry, sort_keys=True)}{comma}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    catalog = derive(args.corpus)
    args.output.write_text(render(catalog), encoding="utf-8")
    print(f"{len(catalog['methods'])} methods -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
