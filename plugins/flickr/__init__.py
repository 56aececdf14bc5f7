"""The Flickr plugin: Flickr's RPC API rewritten into REST form (entry point `flickr`).

    plugin.py          the rewrite rules (FlickrPlugin)
    statuses.py        stat="fail" error codes -> HTTP statuses
    xmljson.py         XML answers -> Flickr's JSON shape
    catalog.py         the derived method table (catalog.json) as lookups
    derive_catalog.py  python -m plugins.flickr.derive_catalog: regenerates catalog.json
"""

from plugins.flickr.plugin import FlickrPlugin

__all__ = ["FlickrPlugin"]
