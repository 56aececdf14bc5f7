"""Reading an OpenAPI 3.0/3.1 document from a file or from git (`git:REF:path`), with lines.

`load_spec(source)` returns a `SpecDocument`: the parsed mapping, its display name, and a lazy
map from JSON pointers to 1-based line numbers (built from yaml's composed nodes, only when a
line is asked for, so diffing stays fast). Swagger 2.0 documents are converted with
`specs.diffing.swagger2` first, so the Flickr catalog and other old specs can be diffed.

Invariants:
1. Anything unusable (missing file, bad YAML/JSON, not an OpenAPI document, git failure) raises
   `observe.errors.InputError` with one line saying what and where; never a traceback.
2. Parsing is by the C loader when available, once: YAML is composed into nodes (which carry
   the lines) and the data is constructed from those nodes; the line map never changes data.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from observe.errors import InputError
from specs.diffing.findings import join_pointer, split_pointer

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SpecDocument:
    """A parsed spec, the name it is shown by, and its text (for line numbers)."""

    data: dict[str, Any]
    name: str
    text: str = ""
    _root: Any = field(default=None, repr=False)
    _composed: bool = field(default=False, repr=False)
    _json_lines: dict[str, int] | None = field(default=None, repr=False)

    @property
    def version(self) -> str:
        return str(self.data.get("openapi", ""))

    def line_of(self, pointer: str) -> int | None:
        """1-based line of the node at `pointer`, or of its nearest ancestor present."""
        if self.text.lstrip().startswith("{"):
            return self._json_line_of(pointer)
        root = self._node_root()
        if root is None:
            return None
        node, line = root, int(root.start_mark.line)
        for token in split_pointer(pointer):
            found = _child_node(node, token)
            if found is None:
                break
            node, line = found[0], int(found[1].start_mark.line)
        return line + 1

    def _json_line_of(self, pointer: str) -> int | None:
        if self._json_lines is None:
            self._json_lines = json_line_map(self.text)
        tokens = split_pointer(pointer)
        for end in range(len(tokens), -1, -1):
            found = self._json_lines.get(join_pointer("", *tokens[:end]))
            if found is not None:
                return found
        return None

    def _node_root(self) -> Any:
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self.text, Loader=_Loader) if self.text else None
            except yaml.YAMLError:
                self._root = None
        return self._root


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:\n]|[^\s{}\[\],:"]+')


def json_line_map(text: str) -> dict[str, int]:
    """JSON pointer -> 1-based line of every member (its key) and item in a JSON text; one
    pass of a tokenizer, much cheaper than composing the JSON as YAML nodes."""
    lines: dict[str, int] = {}
    stack: list[list[Any]] = []  # [is_object, pointer, key or index, expecting a key]
    line = 1
    for match in _JSON_TOKEN.finditer(text):
        token = match.group(0)
        if token == "\n":
            line += 1
            continue
        if token in ("}", "]"):
            if stack:
                stack.pop()
            continue
        if token == ":":
            continue
        top = stack[-1] if stack else None
        if token == ",":
            if top is not None:
                if top[0]:
                    top[3] = True
                else:
                    top[2] += 1
            continue
        if top is not None and top[0] and top[3]:  # an object key
            try:
                key = json.loads(token)
            except ValueError:
                key = token
            top[2], top[3] = str(key), False
            lines[join_pointer(top[1], top[2])] = line
            continue
        here = "" if top is None else join_pointer(top[1], top[2])
        if top is not None and not top[0]:
            lines.setdefault(here, line)
        elif top is None:
            lines.setdefault("", line)
        if token == "{":
            stack.append([True, here, "", True])
        elif token == "[":
            stack.append([False, here, 0, False])
    return lines


def _child_node(node: Any, token: str) -> tuple[Any, Any] | None:
    """(child node, node whose line names it: the key in a mapping, the item in a list)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and str(key.value) == token:
                return value, key
        return None
    if isinstance(node, yaml.SequenceNode) and token.isdigit():
        index = int(token)
        return (node.value[index], node.value[index]) if index < len(node.value) else None
    return None


def read_source_text(source: str) -> tuple[str, str]:
    """(text, display name) of a file path or of `git:REF:path` (via `git show`)."""
    if source.startswith("git:"):
        ref, sep, path = source[4:].partition(":")
        if not sep or not ref or not path:
            raise InputError(f"{source}: write git sources as git:REF:path, e.g. git:main:api.yaml")
        # `REF:./path` is resolved from the current directory, like a file argument
        spec_path = path if path.startswith(("/", "./", "../")) else f"./{path}"
        try:
            result = subprocess.run(
                ["git", "show", f"{ref}:{spec_path}"], capture_output=True, check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputError(f"{source}: cannot run git ({exc})") from exc
        if result.returncode != 0:
            reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise InputError(f"{source}: git show failed: {reason[0] if reason else 'no output'}")
        raw = result.stdout
        name = path
    else:
        file = Path(source)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: cannot read spec ({exc.strerror or exc})") from exc
        name = source
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: spec is not UTF-8 text ({exc.reason})") from exc
    return text, name


def parse_spec_text(text: str, name: str) -> SpecDocument:
    """Parse YAML or JSON text into a checked OpenAPI document (Swagger 2.0 is converted)."""
    data: Any
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            data, root = json.loads(text), None
        else:
            data, root = _load_with_nodes(text)
    except (json.JSONDecodeError, yaml.YAMLError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: not valid YAML or JSON: {first}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{name}: not an OpenAPI document (the top level is not a mapping)")
    if "swagger" in data and "openapi" not in data:
        from specs.diffing.swagger2 import convert_swagger2

        return SpecDocument(convert_swagger2(data), name, "")
    version = str(data.get("openapi", ""))
    if not version.startswith("3."):
        found = f"openapi: {version}" if version else "no 'openapi' key"
        raise InputError(f"{name}: not an OpenAPI 3.x document ({found})")
    paths = data.get("paths", {})
    if paths is not None and not isinstance(paths, dict):
        raise InputError(f"{name}: 'paths' must be a mapping")
    document = SpecDocument(data, name, text)
    if root is not None:
        document._root, document._composed = root, True
    return document


def _load_with_nodes(text: str) -> tuple[Any, Any]:
    """Parse YAML once into (data, composed root node): the nodes carry the line numbers.

    The cyclic garbage collector is paused meanwhile: a large spec allocates millions of
    objects, none of them garbage, and each collection would walk them all (half the parse
    time of a 500-operation spec)."""
    loader = _Loader(text)
    paused = gc.isenabled()
    gc.disable()
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        try:
            data = _construct(root, loader, set())
        except _Unusual:
            data = loader.construct_document(root)
    finally:
        loader.dispose()
        if paused:
            gc.enable()
    return data, root


class _Unusual(Exception):
    """A node the fast constructor leaves to yaml's own (merge keys, timestamps, cycles...)."""


_TAG = "tag:yaml.org,2002:"
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


def _construct(node: Any, loader: Any, active: set[int]) -> Any:
    """yaml.SafeLoader's result for the tags specs use, about four times faster; anything
    else raises _Unusual and the whole document goes through yaml's constructor."""
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        value = node.value
        if tag == _TAG + "str":
            return value
        if tag == _TAG + "int" and _PLAIN_INT.match(value):
            return int(value)
        if tag == _TAG + "float" and _PLAIN_FLOAT.match(value):
            return float(value)
        if tag == _TAG + "bool":
            return loader.bool_values[value.lower()]
        if tag == _TAG + "null":
            return None
        if tag in (_TAG + "int", _TAG + "float"):
            return loader.construct_object(node, deep=True)
        raise _Unusual(tag)
    if id(node) in active:
        raise RecursionError("the document refers to itself through a YAML alias")
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode) and tag == _TAG + "seq":
            return [_construct(item, loader, active) for item in node.value]
        if isinstance(node, yaml.MappingNode) and tag == _TAG + "map":
            out = {}
            for key_node, value_node in node.value:
                if key_node.tag == _TAG + "merge":
                    raise _Unusual("merge key")
                key = _construct(key_node, loader, active)
                if isinstance(key, dict | list):
                    raise _Unusual("unhashable key")
                out[key] = _construct(value_node, loader, active)
            return out
    finally:
        active.discard(id(node))
    raise _Unusual(tag)


def load_spec(source: str) -> SpecDocument:
    """Read and parse a spec from a path or `git:REF:path`."""
    text, name = read_source_text(source)
    return parse_spec_text(text, name)
