"""Benchmark: `specs diff` on a generated 500-operation spec against an edited copy.

Run: .venv/bin/python bench/diff.py [--operations 500]
Prints, for YAML and for JSON copies of the same specs, the time to parse both documents and
the time to diff them and render the findings with line numbers (what
`restscope specs diff --format github` does), as wall time and CPU time (on a machine shared
with other work, wall time overstates the cost; CPU time is what one idle core would take).
Target: < 1 s.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from specs.diffing.catalog import load_catalog
from specs.diffing.engine import diff_specs
from specs.diffing.loading import load_spec
from specs.diffing.report import render_github


def build_spec(operations: int) -> dict[str, Any]:
    """`operations` operations over operations/2 resources, with shared $ref'd schemas."""
    schemas: dict[str, Any] = {
        "Owner": {"type": "object", "required": ["id"],
                  "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                 "manager": {"$ref": "#/components/schemas/Owner"}}},
        "Error": {"type": "object", "properties": {"code": {"type": "integer"},
                                                   "message": {"type": "string"}}},
    }
    paths: dict[str, Any] = {}
    for i in range(operations // 2):
        name = f"Thing{i}"
        schemas[name] = {
            "type": "object", "required": ["id", "state"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "state": {"type": "string", "enum": ["open", "closed"]},
                "size": {"type": "integer", "minimum": 0, "maximum": 1000},
                "owner": {"$ref": "#/components/schemas/Owner"},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}},
                "note": {"type": ["string", "null"]},
            },
        }
        ref = {"$ref": f"#/components/schemas/{name}"}
        error = {"description": "error", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
        paths[f"/things{i}/{{id}}"] = {
            "get": {"operationId": f"get{name}",
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "string"}},
                                   {"name": "fields", "in": "query",
                                    "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "content": {
                        "application/json": {"schema": ref}}}, "404": error}},
            "put": {"operationId": f"put{name}",
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": ref}}},
                    "responses": {"200": {"description": "ok", "content": {
                        "application/json": {"schema": ref}}}, "400": error}},
        }
    return {"openapi": "3.1.0", "info": {"title": "bench", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}}


def edit(spec: dict[str, Any]) -> dict[str, Any]:
    """Changes spread over the document: 1 in 10 resources edited, one shared schema changed."""
    new = copy.deepcopy(spec)
    schemas = new["components"]["schemas"]
    del schemas["Owner"]["properties"]["name"]
    for i in range(0, len(new["paths"]), 10):
        props = schemas[f"Thing{i}"]["properties"]
        props["state"]["enum"].append("archived")
        props["size"]["maximum"] = 500
        props["extra"] = {"type": "string"}
        schemas[f"Thing{i}"]["required"].append("extra")
    for i in range(5, len(new["paths"]), 50):
        del new["paths"][f"/things{i}/{{id}}"]["put"]
    return new


def _measure(base_text: str, new_text: str, kind: str, folder: Path) -> int:
    base_file, new_file = folder / f"base.{kind}", folder / f"new.{kind}"
    base_file.write_text(base_text, "utf-8")
    new_file.write_text(new_text, "utf-8")
    wall, cpu = time.perf_counter(), time.process_time()
    old_doc, new_doc = load_spec(str(base_file)), load_spec(str(new_file))
    gc.freeze()  # as the command does
    parsed_wall, parsed_cpu = time.perf_counter(), time.process_time()
    findings = diff_specs(old_doc, new_doc)
    output = render_github(findings)
    done_wall, done_cpu = time.perf_counter(), time.process_time()
    print(f"{kind}: parse {parsed_wall - wall:.3f} s (cpu {parsed_cpu - cpu:.3f}), "
          f"diff+lines+render {done_wall - parsed_wall:.3f} s (cpu {done_cpu - parsed_cpu:.3f}), "
          f"total {done_wall - wall:.3f} s (cpu {done_cpu - cpu:.3f}, this process); "
          "target < 1 s")
    command = [sys.executable, "-m", "observe", "specs", "diff", str(base_file), str(new_file),
               "--format", "github"]
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    print(f"{kind}: whole command `restscope specs diff BASE NEW --format github` "
          f"{time.perf_counter() - started:.3f} s (interpreter start-up and imports included)")
    return len(output.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=500)
    args = parser.parse_args()
    base = build_spec(args.operations)
    new = edit(base)
    load_catalog()  # the rule table is loaded once per process, like a module import
    operations = sum(len(item) for item in base["paths"].values())
    base_yaml = yaml.safe_dump(base, sort_keys=False)
    new_yaml = yaml.safe_dump(new, sort_keys=False)
    print(f"operations: {operations}, yaml lines: {len(base_yaml.splitlines())} + "
          f"{len(new_yaml.splitlines())}; cpu = process time (wall suffers on a busy machine)")
    with tempfile.TemporaryDirectory() as folder:
        annotations = _measure(base_yaml, new_yaml, "yaml", Path(folder))
        _measure(json.dumps(base, indent=1), json.dumps(new, indent=1), "json", Path(folder))
    print(f"findings (github annotation lines): {annotations}")


if __name__ == "__main__":
    main()
