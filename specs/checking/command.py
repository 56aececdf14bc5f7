"""`restscope specs check SPEC SOURCES...`: where traffic leaves a spec.

Traffic is read like every other traffic command (observe.cli.process_exchanges: any source
format, the plugin chain with redaction last). Findings are grouped by rule and location with a
count and one redacted example each, printed in the formats of `specs diff`, with the same exit
codes (0 / 1 at or above --fail-on / 2 unusable input).
"""

from __future__ import annotations

from typing import Any

import click

from observe.errors import InputError
from observe.options import plugin_options, traffic_reading_options
from observe.tally import Tally
from specs.diffing.command import fail_input, finish, output_options


@click.command("check")
@click.argument("spec")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=str))
@output_options
@traffic_reading_options
@plugin_options
def check_command(spec: str, sources: tuple[str, ...], output_format: str, fail_on: str,
                  ignore_file: str | None, **kwargs: Any) -> None:
    """Check traffic against an OpenAPI spec and report where it leaves it.

    SPEC is a file (YAML or JSON) or git:REF:path; SOURCES are captures in any format restscope
    reads (pcap, pcapng, HAR, JSONL, mitmproxy flows, vcrpy cassettes, tapes). Reported:
    operations and status codes the spec lacks, invalid bodies and parameters (with the JSON
    pointer and the redacted value), properties new in traffic, missing required ones, and
    values without their declared format, each counted with one example exchange.

    \b
    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 unusable input.

    \b
    Examples:
      restscope specs check api.yaml traffic.har
      restscope specs check flickr.yaml capture.pcap --plugin flickr --format markdown
      restscope specs check git:main:api.yaml live.jsonl --format github --fail-on warning
    """
    from observe.cli import process_exchanges
    from observe.report import check_complete, print_summary
    from specs.checking.checker import Checker, FindingTally
    from specs.diffing.loading import load_spec

    try:
        checker = Checker(load_spec(spec))
        tally, grouped = Tally(), FindingTally()
        for exchange in process_exchanges(list(sources), kwargs, tally):
            grouped.add(checker.check(exchange))
        print_summary(tally, sources)
        code = finish(grouped.findings(), output_format, fail_on, ignore_file, "check",
                      [spec, *sources])
        check_complete(tally, kwargs.get("allow_truncated", False))
    except InputError as exc:
        fail_input(exc)
        return
    click.get_current_context().exit(code)
