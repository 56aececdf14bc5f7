"""`restscope specs diff BASE NEW`: the click command, its output and its exit code.

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it; 2 unusable input
(one line on stderr). `specs.checking.command` shares `output_options` and `finish`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from observe.errors import InputError
from specs.diffing.findings import Finding, Severity
from specs.diffing.report import FORMATS, write_report

F = TypeVar("F", bound=Callable[..., Any])
FAIL_ON = ("breaking", "warning", "info", "never")


def output_options(func: F) -> F:
    """--format, --fail-on and --ignore, shared by `diff` and `check`."""
    func = click.option(
        "--ignore", "ignore_file", type=click.Path(dir_okay=False), default=None,
        help="YAML list of accepted findings ({rule, location}; wildcards allowed).",
    )(func)
    func = click.option(
        "--fail-on", type=click.Choice(FAIL_ON), default="breaking", show_default=True,
        help="Exit with 1 when a finding is at least this severe ('never': always 0).",
    )(func)
    func = click.option(
        "--format", "output_format", type=click.Choice(FORMATS), default="text",
        show_default=True,
        help="text (coloured on a terminal), markdown (PR comment), json, github (annotations).",
    )(func)
    return func


def exit_code(findings: Sequence[Finding], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity.parse(fail_on)
    return 1 if any(f.severity >= threshold for f in findings) else 0


def finish(findings: Sequence[Finding], output_format: str, fail_on: str, ignore_file: str | None,
           tool: str, inputs: Sequence[str]) -> int:
    """Apply --ignore, print the report on stdout, and return the exit code."""
    from specs.diffing.ignoring import apply_ignores, load_ignore_file

    if ignore_file:
        findings = apply_ignores(findings, load_ignore_file(ignore_file))
    stream = sys.stdout
    write_report(findings, output_format, stream, tool, inputs)
    stream.flush()
    return exit_code(findings, fail_on)


def fail_input(exc: InputError) -> None:
    click.echo(f"restscope: error: {exc}", err=True)
    click.get_current_context().exit(2)


@click.command("diff")
@click.argument("base")
@click.argument("new")
@output_options
def diff_command(base: str, new: str, output_format: str, fail_on: str,
                 ignore_file: str | None) -> None:
    """Compare two OpenAPI 3.0/3.1 specs and classify every change.

    BASE and NEW are files (YAML or JSON) or committed versions written git:REF:path. Each
    change has a stable rule id and a severity (breaking, warning, info) judged by who is hurt:
    clients sending requests, or clients reading responses. Rules: specs/rules/README.md.

    \b
    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 unusable input.

    \b
    Examples:
      restscope specs diff git:main:api.yaml api.yaml
      restscope specs diff old.json new.yaml --format github --fail-on warning
      restscope specs diff old.yaml new.yaml --format markdown --ignore accepted.yaml
    """
    from specs.diffing.engine import diff_specs
    from specs.diffing.loading import load_spec

    try:
        documents = load_spec(base), load_spec(new)
        gc.freeze()  # the two parsed specs live until exit: keep them out of GC passes
        findings = diff_specs(*documents)
        code = finish(findings, output_format, fail_on, ignore_file, "diff", [base, new])
    except InputError as exc:
        fail_input(exc)
        return
    click.get_current_context().exit(code)
