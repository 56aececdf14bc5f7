"""Flickr error codes to HTTP statuses: the global table and a classifier by meaning.

Flickr answers errors with HTTP 200 and `stat="fail"`, a numeric `code` and a `message`.
`status_for` picks a REST status, first rule that applies:
1. the global codes every method shares (`GLOBAL_STATUS`);
2. the method's own code, from the catalog derived from Flickr's reflection data (each code's
   status was chosen there by `status_for_message` over the catalog's message);
3. the message that came in the response, classified by `status_for_message` (this is how
   codes missing from the 2017 catalog, such as 5 "User deleted" or 201 "... not currently
   available", still get the status their meaning calls for);
4. anything else: 400.

Meaning classes: not found / unknown / deleted -> 404; permission / not allowed / private -> 403;
already done -> 409; too fast -> 429; not available -> 503; server-side failure -> 500;
missing or invalid arguments and limits -> 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

GLOBAL_STATUS: Mapping[int, int] = {
    95: 403, 96: 401, 97: 401, 98: 401, 99: 403, 100: 401,
    105: 503, 106: 500, 111: 400, 112: 404, 114: 400, 115: 400, 116: 400,
}
DEFAULT_STATUS = 400

# (status, pattern) in the order they are tried; the first that matches wins
_MEANINGS: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (status, re.compile(pattern, re.I))
    for status, pattern in (
        (403, r"to the account"),
        (503, r"not (?:currently )?available|unavailable|temporar|try again later"),
        (403, r"permission|not allowed|private|insufficient|cannot|can't|can not|"
              r"only (?:search )?within your own|must accept|invitation only|member only|"
              r"password needed|to the account|pro accounts|disabled by user|owned by you|"
              r"not logged in|login|user unable"),
        (404, r"not found|unknown|does not exist|doesn't exist|deleted|no such|has no |"
              r"^no stats|does not have|not in (?:set|pool|favorites|that group|list)|"
              r"not a favorite|^no photos"),
        (409, r"already"),
        (429, r"too fast"),
        (400, r"invalid|missing|required|not a valid|not enough|specified|given|passed|"
              r"blank|bad value|bad url|too many|too long|exceed|maximum|limit|illogical|"
              r"must be|empty|parameterless|not avai|at least one|disabled|not configured|"
              r"paramters"),
        (500, r"server error|fail|unable to"),
    )
)


def status_for_message(message: str) -> int | None:
    """The status an error message's meaning calls for, or None when it says nothing known."""
    for status, pattern in _MEANINGS:
        if pattern.search(message):
            return status
    return None


def status_for(
    code: int | None, message: str, method_codes: Mapping[str, int] | None = None
) -> tuple[int, str]:
    """(status, rule) for a Flickr error; rule is 'global', 'catalog', 'message' or 'default'."""
    if code is not None and code in GLOBAL_STATUS:
        return GLOBAL_STATUS[code], "global"
    if code is not None and method_codes and str(code) in method_codes:
        return method_codes[str(code)], "catalog"
    by_meaning = status_for_message(message)
    if by_meaning is not None:
        return by_meaning, "message"
    return DEFAULT_STATUS, "default"
