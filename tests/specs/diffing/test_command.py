"""`restscope specs diff` as CI runs it: formats, exit codes, --ignore, git sources, bad input.

The GitHub format is checked against GitHub's documented workflow-command syntax,
`::error file={name},line={line},title={title}::{message}`, with `%`, CR and LF escaped in the
message and, in property values, also `:` and `,`.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from specs.diffing.command import diff_command
from specs.diffing.findings import Finding, Severity
from specs.diffing.report import render_github, render_markdown

BASE = {
    "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
    "paths": {
        "/items/{id}": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "required": ["id"],
                           "properties": {"id": {"type": "string"},
                                          "owner": {"type": "string"}}}}}}}}},
        "/tags": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}


def _new_spec() -> dict:
    new = json.loads(json.dumps(BASE))
    schema = new["paths"]["/items/{id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    del schema["properties"]["owner"]  # breaking
    new["paths"]["/tags"]["get"]["deprecated"] = True  # warning
    new["paths"]["/labels"] = {"get": {"responses": {"200": {"description": "ok"}}}}  # info
    return new


@pytest.fixture
def specs(tmp_path: Path) -> tuple[str, str]:
    base, new = tmp_path / "base.yaml", tmp_path / "new.yaml"
    base.write_text(yaml.safe_dump(BASE, sort_keys=False))
    new.write_text(yaml.safe_dump(_new_spec(), sort_keys=False))
    return str(base), str(new)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(diff_command, list(args))
    return result.exit_code, result.stdout, result.stderr


WORKFLOW_COMMAND = re.compile(
    r"^::(?P<command>error|warning|notice) (?P<props>[^:]*)::(?P<message>[^\r\n]*)$")
PROPERTY = re.compile(r"^(file|line|endLine|col|endColumn|title)=([^,:\r\n]*)$")


def test_github_annotations_follow_the_documented_workflow_command_syntax(specs) -> None:
    code, out, _ = _run(*specs, "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    commands = []
    for line in lines:
        match = WORKFLOW_COMMAND.match(line)
        assert match, line
        props = dict(PROPERTY.match(p).groups() for p in match["props"].split(","))
        assert props["file"].endswith("new.yaml")
        assert int(props["line"]) >= 1
        commands.append((match["command"], props["title"]))
    assert commands == [("error", "response-property-removed (breaking)"),
                        ("warning", "operation-deprecated (warning)"),
                        ("notice", "path-added (info)")]


def test_github_escaping_of_messages_and_properties() -> None:
    finding = Finding("rule-x", Severity.WARNING, "GET /a,b", "100% sure\r\nnext: line",
                      file="dir/we,ird:name.yaml", line=7)
    line = render_github([finding]).rstrip("\n")
    assert "\n" not in line
    assert line == ("::warning file=dir/we%2Cird%3Aname.yaml,line=7,title=rule-x (warning)"
                    "::GET /a,b: 100%25 sure%0D%0Anext: line")
    assert WORKFLOW_COMMAND.match(line)


def _parse_markdown_table(text: str) -> list[dict[str, str]]:
    rows = [line for line in text.splitlines() if line.startswith("|")]
    split = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]
    header, rule, body = split[0], split[1], split[2:]
    assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in rule)
    assert all(len(row) == len(header) for row in body)
    return [dict(zip(header, row, strict=True)) for row in body]


def test_markdown_renders_as_a_table(specs) -> None:
    code, out, _ = _run(*specs, "--format", "markdown")
    assert code == 1
    rows = _parse_markdown_table(out)
    assert [(r["Severity"], r["Rule"]) for r in rows] == [
        ("breaking", "`response-property-removed`"), ("warning", "`operation-deprecated`"),
        ("info", "`path-added`")]
    assert rows[0]["Location"] == "GET /items/{id} response 200 application/json owner"
    assert "1 breaking, 1 warning, 1 info" in out


def test_markdown_escapes_pipes_inside_cells() -> None:
    finding = Finding("r", Severity.INFO, "a|b", "x\ny")
    rows = _parse_markdown_table(render_markdown([finding], "diff"))
    assert rows[0]["Location"] == "a\\|b" and rows[0]["Change"] == "x y"


def test_json_output_has_the_documented_stable_schema(specs) -> None:
    code, out, _ = _run(*specs, "--format", "json", "--fail-on", "never")
    assert code == 0
    document = json.loads(out)
    assert document["schema"] == "restscope.findings/1"
    assert document["tool"] == "diff"
    assert document["summary"] == {"breaking": 1, "warning": 1, "info": 1}
    keys = {"rule", "severity", "location", "message", "file", "pointer", "line", "count",
            "example"}
    assert all(set(f) == keys for f in document["findings"])


@pytest.mark.parametrize(("fail_on", "expected"),
                         [("breaking", 1), ("warning", 1), ("info", 1), ("never", 0)])
def test_exit_code_follows_fail_on(specs, fail_on: str, expected: int) -> None:
    assert _run(*specs, "--fail-on", fail_on)[0] == expected


def test_ignore_file_accepts_findings_by_rule_and_location(specs, tmp_path: Path) -> None:
    ignore = tmp_path / "accepted.yaml"
    ignore.write_text(yaml.safe_dump([
        {"rule": "response-property-removed", "location": "GET /items/* response 200 *",
         "reason": "owner moved"},
    ]))
    code, out, _ = _run(*specs, "--ignore", str(ignore), "--format", "json")
    assert code == 0
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["operation-deprecated",
                                                               "path-added"]
    code, _, _ = _run(*specs, "--ignore", str(ignore), "--fail-on", "warning")
    assert code == 1


def test_text_output_and_nothing_to_report(specs, monkeypatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    base, _ = specs
    code, out, _ = _run(base, base)
    assert code == 0 and "no findings" in out
    code, out, _ = _run(*specs)
    assert "BREAKING" in out and "response-property-removed" in out and "\x1b[" not in out


def test_git_ref_sources_read_committed_versions(tmp_path: Path, monkeypatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    spec = tmp_path / "api.yaml"
    spec.write_text(yaml.safe_dump(BASE))
    git("add", "api.yaml")
    git("commit", "-qm", "base")
    spec.write_text(yaml.safe_dump(_new_spec()))
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run("git:HEAD:api.yaml", "api.yaml", "--format", "json")
    assert code == 1
    assert json.loads(out)["summary"]["breaking"] == 1
    code, _, err = _run("git:nosuchref:api.yaml", "api.yaml")
    assert code == 2 and err.startswith("restscope: error: git:nosuchref:api.yaml")


@pytest.mark.parametrize(("content", "needle"), [
    ("{not json", "not valid YAML or JSON"),
    ("- a\n- b\n", "not an OpenAPI document"),
    ("swaggerish: 1\n", "not an OpenAPI 3.x document"),
    ("openapi: 3.0.0\npaths: [1]\n", "'paths' must be a mapping"),
])
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, specs, content: str,
                                              needle: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    code, out, err = _run(specs[0], str(bad))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_missing_file_exits_2(specs) -> None:
    code, _, err = _run(specs[0], "/nonexistent/spec.yaml")
    assert code == 2 and "cannot read spec" in err


def test_git_paths_are_relative_to_the_current_directory(tmp_path: Path, monkeypatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "api").mkdir()
    spec = tmp_path / "api" / "spec.yaml"
    spec.write_text(yaml.safe_dump(BASE))
    git("add", "api/spec.yaml")
    git("commit", "-qm", "base")
    spec.write_text(yaml.safe_dump(_new_spec()))
    monkeypatch.chdir(tmp_path / "api")
    code, out, err = _run("git:HEAD:spec.yaml", "spec.yaml", "--format", "json")
    assert code == 1, err
    assert json.loads(out)["summary"] == {"breaking": 1, "warning": 1, "info": 1}


def test_a_malformed_ignore_file_is_unusable_input(specs, tmp_path: Path) -> None:
    ignore = tmp_path / "accepted.yaml"
    ignore.write_text("rule: not-a-list\n")
    code, out, err = _run(*specs, "--ignore", str(ignore))
    assert code == 2 and out == "" and "must be a YAML list" in err


def test_text_output_is_coloured_on_a_terminal(monkeypatch) -> None:
    import io

    from specs.diffing.report import render_text

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    stream = Terminal()
    render_text([Finding("path-removed", Severity.BREAKING, "/a", "path /a removed")], stream,
                "diff")
    assert "\x1b[" in stream.getvalue() and "path-removed" in stream.getvalue()


def test_markdown_renders_as_an_html_table_with_a_markdown_renderer(specs) -> None:
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.tables = 0
            self._cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag == "table":
                self.tables += 1
            elif tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self._cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self._cell is not None:
                self.rows[-1].append("".join(self._cell).strip())
                self._cell = None

        def handle_data(self, data: str) -> None:
            if self._cell is not None:
                self._cell.append(data)

    _, out, _ = _run(*specs, "--format", "markdown")
    html = MarkdownIt("commonmark").enable("table").render(out)
    cells = Cells()
    cells.feed(html)
    assert cells.tables == 1
    assert cells.rows[0] == ["Severity", "Rule", "Location", "Change", "Line"]
    assert [row[1] for row in cells.rows[1:]] == [
        "response-property-removed", "operation-deprecated", "path-added"]
    pipe = render_markdown([Finding("r", Severity.INFO, "a|b", "m")], "diff")
    cells = Cells()
    cells.feed(MarkdownIt("commonmark").enable("table").render(pipe))
    assert cells.rows[1][2] == "a|b"  # an escaped pipe stays inside its cell


def test_markdown_fits_a_pull_request_comment() -> None:
    from specs.diffing.report import MARKDOWN_ROWS

    findings = [Finding("path-removed", Severity.BREAKING, f"/p{i:04}", "path removed")
                for i in range(MARKDOWN_ROWS + 50)]
    text = render_markdown(findings, "diff")
    assert len(_parse_markdown_table(text)) == MARKDOWN_ROWS
    assert "... and 50 more" in text and "**250 breaking, 0 warning, 0 info**" in text
    assert len(text) < 65536
