"""Rendering findings (of `diff` or `check`) as text, markdown, JSON or GitHub annotations.

Formats:
- text: one block per finding, coloured by severity when the output is a terminal (rich);
- markdown: a summary line and one table, ready for a pull-request comment (the first
  MARKDOWN_ROWS findings, worst first, so it fits GitHub's comment size);
- json: `{"schema": "restscope.findings/1", "tool", "inputs", "summary", "findings": [...]}`,
  each finding as `Finding.to_dict()` (documented in specs/rules/README.md);
- github: one workflow command per finding, `::error file=F,line=L,title=T::MESSAGE`
  (breaking -> error, warning -> warning, info -> notice), escaped as GitHub documents:
  `%`, CR and LF in the message; additionally `:` and `,` in property values.

Invariant: output depends only on the findings (no timestamps), so CI logs diff cleanly.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.text import Text

from specs.diffing.findings import Finding, Severity

FORMATS = ("text", "markdown", "json", "github")
JSON_SCHEMA_ID = "restscope.findings/1"
MARKDOWN_ROWS = 200  # a pull-request comment holds 65536 characters
_STYLES = {Severity.BREAKING: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_COMMANDS = {Severity.BREAKING: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def summary_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {s.label: counts.get(s, 0) for s in sorted(Severity, reverse=True)}


def summary_line(findings: Sequence[Finding]) -> str:
    counts = summary_counts(findings)
    if not findings:
        return "no findings"
    return ", ".join(f"{n} {label}" for label, n in counts.items())


def render_text(findings: Sequence[Finding], stream: IO[str], tool: str) -> None:
    console = Console(file=stream, highlight=False, soft_wrap=True)
    for finding in findings:
        head = Text()
        head.append(f"{finding.severity.label.upper():<9}", style=_STYLES[finding.severity])
        head.append(f" {finding.rule}", style="bold")
        head.append(f"  {finding.location}")
        console.print(head)
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        count = f" (seen {finding.count}x)" if tool == "check" else ""
        console.print(Text(f"          {finding.message}{count}" + (f"  [{where}]" if where
                                                                         else "")))
        if finding.example:
            console.print(Text(f"          e.g. {finding.example}", style="dim"))
    console.print(Text(f"{tool}: {summary_line(findings)}", style="bold"))


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def render_markdown(findings: Sequence[Finding], tool: str) -> str:
    title = "API changes" if tool == "diff" else "Traffic vs spec"
    lines = [f"### restscope {tool}: {title}", "", f"**{summary_line(findings)}**", ""]
    if not findings:
        return "\n".join(lines)
    if tool == "check":
        lines += ["| Severity | Rule | Location | Finding | Count | Example |",
                  "| --- | --- | --- | --- | ---: | --- |"]
    else:
        lines += ["| Severity | Rule | Location | Change | Line |",
                  "| --- | --- | --- | --- | ---: |"]
    for f in findings[:MARKDOWN_ROWS]:
        cells = [f.severity.label, f"`{f.rule}`", _cell(f.location), _cell(f.message)]
        if tool == "check":
            cells += [str(f.count), _cell(f.example)]
        else:
            cells.append(str(f.line) if f.line else "")
        lines.append("| " + " | ".join(cells) + " |")
    if len(findings) > MARKDOWN_ROWS:
        lines += ["", f"... and {len(findings) - MARKDOWN_ROWS} more, less severe or later in "
                      "order (all of them: `--format json`)."]
    lines.append("")
    return "\n".join(lines)


def render_json(findings: Sequence[Finding], tool: str, inputs: Sequence[str]) -> str:
    document = {
        "schema": JSON_SCHEMA_ID,
        "tool": tool,
        "inputs": list(inputs),
        "summary": summary_counts(findings),
        "findings": [f.to_dict() for f in findings],
    }
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def escape_data(text: str) -> str:
    """A workflow command's message: % first, then CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as data, plus ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        props = []
        if f.file:
            props.append(f"file={escape_property(f.file)}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={escape_property(f'{f.rule} ({f.severity.label})')}")
        message = f"{f.location}: {f.message}"
        if f.count > 1:
            message += f" (seen {f.count} times)"
        lines.append(f"::{_COMMANDS[f.severity]} {','.join(props)}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)


def write_report(findings: Sequence[Finding], output_format: str, stream: IO[str], tool: str,
                 inputs: Sequence[str]) -> None:
    if output_format == "text":
        render_text(findings, stream, tool)
    elif output_format == "markdown":
        stream.write(render_markdown(findings, tool))
    elif output_format == "json":
        stream.write(render_json(findings, tool, inputs))
    elif output_format == "github":
        stream.write(render_github(findings))
    else:
        raise ValueError(f"unknown format {output_format!r}")
