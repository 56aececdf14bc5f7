"""`--help` on every command of `restscope` (the root, the groups other packages add through
entry points, the lazily loaded commands and every subcommand) explains it with an example."""

from __future__ import annotations

import click
from click.testing import CliRunner

from observe.cli import cli


def _commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()
              ) -> list[tuple[str, ...]]:
    found = [prefix]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found += _commands(command, click.Context(command, parent=ctx), (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands(cli, click.Context(cli))
    names = {" ".join(c) for c in commands}
    # the groups and commands of every package are found
    assert {"capture", "demo", "proxy", "sniff", "specs infer", "specs check", "tapes serve",
            "tapes import"} <= names
    runner = CliRunner()
    missing = []
    for command in commands:
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        if "Example" not in result.output:
            missing.append(" ".join(command) or "(root)")
    assert missing == []
