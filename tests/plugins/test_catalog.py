"""The committed catalog.json is exactly what the derive script makes from the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.flickr.catalog import CATALOG_FILE, load_catalog
from plugins.flickr.derive_catalog import derive, main, render
from tests.conftest import corpus_path

pytestmark = pytest.mark.corpus


def test_committed_table_is_up_to_date(tmp_path: Path) -> None:
    corpus = corpus_path()
    out = tmp_path / "catalog.json"
    assert main(["--corpus", str(corpus), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == CATALOG_FILE.read_text(encoding="utf-8"), (
        "catalog.json is stale: run python -m plugins.flickr.derive_catalog")
    assert render(derive(corpus)) == render(derive(corpus))  # deterministic


def test_table_contents() -> None:
    catalog = load_catalog()
    assert len(catalog.methods) == 218
    info = catalog.method("flickr.photos.getInfo")
    assert info is not None
    assert info.args == (("api_key", True), ("photo_id", True), ("secret", False))
    assert info.error_status == {"1": 404}
    assert ("tags", "tag") in info.lists
    total_args = sum(len(m.args) for m in catalog.methods.values())
    assert total_args == 829  # as SOURCES.md counts them
    # no method lists a global code as its own: those live in statuses.GLOBAL_STATUS
    assert all(int(c) not in range(95, 117) or int(c) == 108
               for m in catalog.methods.values() for c in m.error_status)
    get_token = catalog.method("flickr.auth.getToken")
    assert get_token is not None
    assert get_token.error_status["108"] == 400  # Invalid frob
    assert catalog.number_rules("flickr.photos.search").is_number("/photos/photo/*/farm", "farm")
    assert not catalog.number_rules("flickr.photos.search").is_number("/photos/total", "total")
