"""Tests of observe.formats.

`observe.sources.formats()` loads the built-in readers only when nothing is registered yet, so
a test module that imports one reader directly would hide the others from detection; loading
them all here, before any test module of this package is imported, keeps detection complete.
"""

from observe.sources import _load_builtin_formats

_load_builtin_formats()
