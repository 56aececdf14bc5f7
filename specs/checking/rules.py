"""The rule table of `restscope specs check`: what traffic did that the spec does not allow.

Request rules judge what clients sent, response rules what servers answered; both sides are
reported because a spec used as a contract can be wrong on either side.
Invariant: ids are stable; specs/rules/README.md lists this table (generated).
"""

from __future__ import annotations

from specs.diffing.catalog import Rule
from specs.diffing.findings import Severity

B, W = Severity.BREAKING, Severity.WARNING

_TABLE: tuple[tuple[str, Severity, str], ...] = (
    ("operation-unknown", B, "A request matched no path and method of the spec."),
    ("status-unknown", B, "A response status the operation does not document (nor a 2XX-style "
                          "range or `default`)."),
    ("response-media-type-unknown", W, "A response media type the status does not document."),
    ("request-media-type-unknown", W, "A request body media type the operation does not "
                                      "document."),
    ("request-parameter-missing", B, "A required query or header parameter was not sent."),
    ("request-parameter-unknown", W, "A query parameter the operation does not document."),
    ("request-parameter-invalid", B, "A path or query parameter value fails its schema."),
    ("request-body-invalid", B, "A request body (or a value in it) fails its schema: type, "
                                "enum, bounds, pattern, or not JSON."),
    ("response-body-invalid", B, "A response body (or a value in it) fails its schema."),
    ("request-property-unknown", W, "A request body property the schema does not declare."),
    ("response-property-unknown", W, "A response property the schema does not declare "
                                     "(new in traffic)."),
    ("request-property-missing", B, "A required request body property was absent."),
    ("response-property-missing", B, "A required response property was absent."),
    ("request-format-mismatch", W, "A request value does not have its declared `format`."),
    ("response-format-mismatch", W, "A response value does not have its declared `format`."),
)

CHECK_RULES: dict[str, Rule] = {rule_id: Rule(rule_id, severity, summary)
                                for rule_id, severity, summary in _TABLE}
