"""The tapes package's error base (see observe.errors for the whole tree).

Kept out of `tapes/__init__.py` on purpose: nothing should need the package root's namespace,
so a `tapes/` folder in the working directory (a tape folder!) cannot shadow it.
"""

from __future__ import annotations

from observe.errors import RestscopeError


class TapeError(RestscopeError):
    """Something restscope tapes refuses to do (e.g. write outside the tape folder)."""
