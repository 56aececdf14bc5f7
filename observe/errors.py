"""The exception tree shared by every restscope package.

    RestscopeError                 root: anything restscope raises on purpose
    ├── InputError                 unusable input (bad file, unknown format); CLI exit code 2
    │   ├── UnknownFormatError     a file whose format cannot be detected
    │   └── TruncatedInputError    a file that ends in the middle of a record
    ├── BodyError                  a message body cannot be decoded
    │   ├── BodyDecodeError        corrupt compression or charset
    │   └── BodyTooLargeError      decompression passed the configured size cap
    └── (per package bases: plugins.PluginError, specs.SpecError, tapes.TapeError)

Every message says what went wrong and, where it can, what to do about it.
"""

from __future__ import annotations


class RestscopeError(Exception):
    """Root of every error restscope raises on purpose."""


class InputError(RestscopeError):
    """Input that cannot be used at all; the command line turns it into exit code 2."""


class UnknownFormatError(InputError):
    """A traffic file whose format is not one restscope reads."""


class TruncatedInputError(InputError):
    """A file that ends in the middle of a record."""


class BodyError(RestscopeError):
    """A message body that cannot be turned into bytes, text or JSON."""


class BodyDecodeError(BodyError):
    """Corrupt compressed data or text that is not valid in its charset."""


class BodyTooLargeError(BodyError):
    """Decompressing a body would pass the configured size cap (a zip bomb guard)."""
