"""Path templating recovers real API path templates from concrete URLs.

`data/path_templates.txt` lists real templates from public API docs (GitHub, Stripe, Twilio,
Spotify, Kubernetes, Slack, ...). For each, concrete paths are generated with realistic values
for each parameter kind (numbers, hex SHAs, Stripe/Twilio/Spotify ids, user and repo names, pod
names); the templater sees all paths of one host together, as it would in a capture, and must
recover at least 95% of the templates exactly (parameter names aside: they are heuristic).
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

from specs.paths import path_key
from specs.templating import template_paths

DATA = Path(__file__).parent / "data" / "path_templates.txt"
URLS_PER_TEMPLATE = 6
WORDS = ["octocat", "torvalds", "alice", "bob", "carol", "mozilla", "rust-lang", "hello-world",
         "spoon-knife", "linux", "django", "requests", "frontend", "backend", "payments", "infra",
         "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "nginx", "redis",
         "postgres", "team-a", "kube-system", "monitoring", "toplists", "chill", "workout"]


def _word(rng: random.Random) -> str:
    suffix = rng.choice(["", "", "-dev", str(rng.randint(1, 99)), "-" + _hex(rng, 5)])
    return rng.choice(WORDS) + suffix


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _base62(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def value_for(name: str, host: str, rng: random.Random) -> str:
    """A realistic value for a parameter called `name` on `host`."""
    lower = name.lower()
    if "sha" in lower or lower == "ref":
        return _hex(rng, 40)
    if lower == "gist_id":
        return _hex(rng, 32)
    if host == "api.twilio.com":
        return rng.choice(["AC", "CA", "SM", "RE", "PN", "ME"]) + _hex(rng, 32)
    if host == "api.stripe.com":
        prefix = {"customer": "cus", "charge": "ch", "intent": "pi", "invoice": "in",
                  "price": "price", "refund": "re"}.get(lower, rng.choice(["evt", "prod", "src"]))
        return f"{prefix}_{_base62(rng, 14)}"
    if host == "api.spotify.com" and lower in ("id", "playlist_id"):
        return _base62(rng, 22)
    if (lower.endswith(("_number", "_id")) and lower not in ("user_id", "category_id")) or \
            lower == "id":
        return str(rng.randint(1, 10**9))
    if lower == "name":
        return rng.choice(WORDS) + "-" + _hex(rng, 9) + "-" + _base62(rng, 5).lower()
    if lower == "period":
        return rng.choice(["day", "week", "month"])
    return _word(rng)


def load_templates() -> list[tuple[str, str]]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            host, template = line.split()
            rows.append((host, template))
    return rows


def normalized(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", template)


def concrete(template: str, host: str, rng: random.Random) -> str:
    return re.sub(r"\{([^}]*)\}", lambda m: value_for(m.group(1), host, rng), template)


def test_at_least_100_real_templates_are_listed() -> None:
    rows = load_templates()
    assert len(rows) >= 100
    assert len({host for host, _ in rows}) >= 6


def test_templates_are_recovered_from_generated_urls() -> None:
    rng = random.Random(20261123)
    rows = load_templates()
    by_host: dict[str, list[tuple[str, list[str]]]] = {}
    for host, template in rows:
        paths = [concrete(template, host, rng) for _ in range(URLS_PER_TEMPLATE)]
        by_host.setdefault(host, []).append((template, paths))
    recovered, failures = 0, []
    for host, entries in by_host.items():
        hits: dict[str, int] = {}
        for _, paths in entries:
            for path in paths:
                key = path_key(path)[0]
                hits[key] = hits.get(key, 0) + 1
        result = template_paths(hits)
        for template, paths in entries:
            got = {normalized(result.templates[path_key(p)[0]].path) for p in paths}
            if got == {normalized(template)}:
                recovered += 1
            else:
                failures.append(f"{host} {template} -> {sorted(got)}")
    share = recovered / len(rows)
    print(f"{recovered}/{len(rows)} templates recovered ({share:.1%})")
    assert share >= 0.95, f"{share:.1%} recovered; failures:\n" + "\n".join(failures)


def test_static_siblings_and_versions_stay_static() -> None:
    paths = [f"/v1/users/{n}" for n in (12, 345, 6789)] + ["/v1/users/me", "/v1/users/search"]
    hits = {path_key(p)[0]: 1 for p in paths}
    templates = {k: t.path for k, t in template_paths(hits).templates.items()}
    assert templates["/v1/users/me"] == "/v1/users/me"
    assert templates["/v1/users/search"] == "/v1/users/search"
    assert templates["/v1/users/{int}"] == "/v1/users/{userId}"


def test_fixed_paths_are_never_templated() -> None:
    hits = {f"/photos/word{n}": 1 for n in range(50)}
    fixed = frozenset(hits)
    result = template_paths(hits, fixed)
    assert all(t.path == k for k, t in result.templates.items())


def test_explanations_name_the_evidence() -> None:
    hits = {path_key(f"/repos/{w}/issues")[0]: 1 for w in WORDS[:8]}
    result = template_paths(hits)
    assert any("distinct values" in line and line.startswith("/repos/*")
               for line in result.explanations)


def test_a_small_capture_of_a_few_resources_keeps_them_static() -> None:
    resources = ["customers", "charges", "invoices", "products", "prices", "refunds"]
    hits = {f"/v1/{r}": 1 for r in resources} | {f"/{r}": 1 for r in resources}
    templates = template_paths(hits).templates
    assert all(t.path == k for k, t in templates.items())


def test_each_host_is_templated_on_its_own() -> None:
    from specs.openapi import group_operations
    from specs.run import summarize_exchanges
    from tests.specs.helpers import json_exchange

    a = ["customers", "charges", "invoices", "products", "prices"]
    b = ["albums", "artists", "tracks", "playlists", "shows"]
    exchanges = [json_exchange("GET", f"https://{host}/v1/{word}", 200, {}, index=i)
                 for i, (host, word) in enumerate([("a.example", w) for w in a] +
                                                  [("b.example", w) for w in b])]
    grouped = group_operations(summarize_exchanges(exchanges, "m"))
    assert sorted(t for t, _ in grouped.operations) == sorted(f"/v1/{w}" for w in a + b)
