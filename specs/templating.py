"""Path templating from evidence: `/users/{int}/photos` keys become `/users/{userId}/photos`.

Input: the path keys of all operations (see `specs.paths.path_key`, where segments that are ids
on their own look are already placeholders) with how often each was hit. Output: for each key
its template and the names of its parameters, and the reasons for every decision (`--explain`).

Decisions, per position under one prefix (a trie walked top-down):
1. Placeholders (numbers, UUIDs, hex, NSIDs, dates, tokens, emails) are parameters; all
   placeholders at one position merge into one parameter (their subtrees merge too).
2. Words stay static unless there is evidence they are values, under a non-root prefix: at least
   `MIN_RARE_DISTINCT` distinct words, each seen rarely (median hits <= `RARE_HITS`), very many
   (>= `MANY_DISTINCT`), or sharing a static child segment (`/users/alice/photos`,
   `/users/bob/photos`: at least `SHARED_SHARE` percent of them). Known words (`api`, `me`,
   `search`, versions ...) and words seen under
   several different parents of a merged parameter always stay static.
3. Parameter names come from the preceding static segment (`users` -> `userId`), unique per path.
4. Deterministic: the result depends only on the set of keys and their counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from specs.paths import is_placeholder, is_version, split_extension, split_path

MIN_DISTINCT = 5
MIN_RARE_DISTINCT = 8
RARE_HITS = 2
MANY_DISTINCT = 40
SHARED_SHARE = 30  # percent of candidates that must share a static child segment
STATIC_WORDS = frozenset({
    "api", "apis", "me", "self", "current", "mine", "search", "all", "latest", "new", "default",
    "public", "private", "rest", "services", "oauth", "oauth2", "auth", "login", "logout",
    "batch", "bulk", "count", "stats", "status", "health", "info", "config", "settings",
    "export", "import", "upload", "download", "graphql", "v", "admin", "user", "users",
})


@dataclass
class _Node:
    hits: int = 0
    keys: list[str] = field(default_factory=list)  # path keys ending here
    children: dict[str, _Node] = field(default_factory=dict)
    parents: dict[str, int] = field(default_factory=dict)  # child segment -> merged parents
    merged_from: int = 1  # how many concrete nodes were merged into this one


@dataclass(frozen=True)
class Template:
    """A path template, its parameter names by position, and the kind of each parameter."""

    path: str
    names: tuple[tuple[int, str], ...]


@dataclass
class Templating:
    """Key -> template, plus the explanation lines (sorted)."""

    templates: dict[str, Template]
    explanations: list[str]
    # key -> {position: raw words merged into a parameter there}
    words: dict[str, dict[int, str]]


def _insert(root: _Node, key: str, hits: int) -> None:
    node = root
    node.hits += hits
    for segment in split_path(key):
        child = node.children.get(segment)
        if child is None:
            child = node.children[segment] = _Node()
        child.hits += hits
        node = child
    node.keys.append(key)


def _merge_nodes(nodes: list[_Node]) -> _Node:
    merged = _Node(merged_from=sum(node.merged_from for node in nodes))
    by_segment: dict[str, list[_Node]] = {}
    for node in nodes:
        merged.hits += node.hits
        merged.keys.extend(node.keys)
        for segment, child in node.children.items():
            by_segment.setdefault(segment, []).append(child)
    for segment, children in by_segment.items():
        merged.children[segment] = _merge_nodes(children) if len(children) > 1 else children[0]
        merged.parents[segment] = len(children)
    return merged


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def _word_is_static(word: str, siblings_of_id: bool, parents: int) -> bool:
    stem = split_extension(word)[0]
    return (stem.lower() in STATIC_WORDS or is_version(stem) or parents >= 2 or stem == ""
            or (siblings_of_id and stem.isalpha() and stem.islower()))


def _shared_child(node: _Node, candidates: list[str]) -> str | None:
    """A static child segment found under many candidates (`/users/alice/photos`, `/bob/photos`):
    the candidates are then values of one parameter, not distinct resources."""
    under: dict[str, int] = {}
    for word in candidates:
        for child in node.children[word].children:
            if not is_placeholder(child) and child not in node.children:
                under[child] = under.get(child, 0) + 1
    needed = max(2, (len(candidates) * SHARED_SHARE + 99) // 100)
    found = sorted(child for child, n in under.items() if n >= needed)
    return found[0] if found else None


def _decide(node: _Node, prefix: str, explain: list[str]) -> dict[str, str]:
    """Map each child segment of `node` to its template segment ('{}' marks a parameter)."""
    decision: dict[str, str] = {}
    placeholders = [s for s in node.children if is_placeholder(s)]
    words = [s for s in node.children if not is_placeholder(s)]
    for segment in placeholders:
        suffix = segment[segment.index("}") + 1:]
        decision[segment] = "{}" + suffix
    if placeholders:
        kinds = sorted({s[1:s.index("}")] for s in placeholders})
        hits = sum(node.children[s].hits for s in placeholders)
        explain.append(f"{prefix}/*: parameter ({', '.join(kinds)} values, {hits} hits)")
    candidates = []
    id_siblings = bool(placeholders) and len(words) < MIN_DISTINCT
    for word in sorted(words):
        parents = node.parents.get(word, 1)
        if parents < max(2, node.merged_from // 5):
            parents = 1  # a few collisions of values under different parents are no evidence
        if _word_is_static(word, id_siblings, parents):
            decision[word] = word
        else:
            candidates.append(word)
    if not candidates:
        return decision
    hits = [node.children[w].hits for w in candidates]
    median = _median(hits)
    enough = len(candidates) >= MIN_DISTINCT
    many = len(candidates) >= MANY_DISTINCT
    # first segments are resources, not values, unless there are very many of them; and "each
    # seen rarely" needs more distinct values than a small capture of a few resources gives
    many = many and (bool(prefix) or len(candidates) >= 2 * MANY_DISTINCT)
    rare = bool(prefix) and len(candidates) >= MIN_RARE_DISTINCT and median <= RARE_HITS
    shared = _shared_child(node, candidates) if enough and prefix else None
    if many or rare or shared:
        reason = (f"{len(candidates)} distinct values" if many else
                  f"{len(candidates)} distinct values, median {median:g} hits each" if rare else
                  f"{len(candidates)} distinct values sharing the sub-path {shared!r}")
        for word in candidates:
            decision[word] = "{}" + split_extension(word)[1]
        explain.append(f"{prefix}/*: parameter ({reason}, e.g. {candidates[0]!r})")
    else:
        for word in candidates:
            decision[word] = word
        if len(candidates) > 1:
            explain.append(
                f"{prefix}/*: kept {len(candidates)} words static "
                f"({', '.join(candidates[:5])}{' ...' if len(candidates) > 5 else ''}; "
                f"fewer than {MIN_DISTINCT} or seen often, median {median:g} hits)"
            )
    return decision


def _walk(node: _Node, prefix: str, out: dict[str, str], explain: list[str]) -> None:
    for key in node.keys:
        out[key] = prefix or "/"
    if not node.children:
        return
    decision = _decide(node, prefix, explain)
    groups: dict[str, list[_Node]] = {}
    for segment, child in node.children.items():
        groups.setdefault(decision[segment], []).append(child)
    for template_segment in sorted(groups):
        children = groups[template_segment]
        merged = _merge_nodes(children) if len(children) > 1 else children[0]
        _walk(merged, f"{prefix}/{template_segment}", out, explain)


_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def _singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _camel(word: str) -> str:
    parts = [p for p in _WORD_SPLIT.split(word) if p]
    if not parts:
        return ""
    head = parts[0][0].lower() + parts[0][1:]
    return head + "".join(p[0].upper() + p[1:] for p in parts[1:])


def name_parameters(template: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Give each `{}` in a template a name from the segment before it, unique in the path."""
    segments = split_path(template)
    names: list[tuple[int, str]] = []
    used: set[str] = set()
    out = []
    for position, segment in enumerate(segments):
        if not segment.startswith("{}"):
            out.append(segment)
            continue
        previous = segments[position - 1] if position else ""
        base = ""
        if previous and not previous.startswith("{"):
            stem = split_extension(previous)[0]
            if not is_version(stem):
                base = _camel(_singular(stem))
        name = (base if base.lower().endswith("id") else f"{base}Id") if base else "id"
        if not name[0].isalpha():
            name = "id"
        candidate, n = name, 2
        while candidate in used:
            candidate, n = f"{name}{n}", n + 1
        used.add(candidate)
        names.append((position, candidate))
        out.append("{" + candidate + "}" + segment[2:])
    return "/" + "/".join(out), tuple(names)


def template_paths(hits: Mapping[str, int], fixed: frozenset[str] = frozenset()) -> Templating:
    """Templates for path keys (`hits`: key -> exchange count); `fixed` keys stay as they are."""
    root = _Node()
    for key in sorted(hits):
        if key not in fixed:
            _insert(root, key, hits[key])
    raw: dict[str, str] = {}
    explain: list[str] = []
    _walk(root, "", raw, explain)
    templates: dict[str, Template] = {}
    words: dict[str, dict[int, str]] = {}
    for key in sorted(hits):
        if key in fixed:
            templates[key] = Template(key, ())
            continue
        path, names = name_parameters(raw[key])
        templates[key] = Template(path, names)
        segments = split_path(key)
        for position, _ in names:
            segment = segments[position]
            if not is_placeholder(segment):
                words.setdefault(key, {})[position] = split_extension(segment)[0]
    return Templating(templates, sorted(set(explain)), words)
