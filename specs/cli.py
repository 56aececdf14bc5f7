"""`restscope specs`: the command group for inference, merging, diffing and checking specs.

Each subcommand lives in its own module and is loaded lazily, so `restscope --help` stays fast.
"""

from __future__ import annotations

import importlib

import click

_SUBCOMMANDS = {
    # name: (module, attribute)
    "summarize": ("specs.commands", "summarize_command"),
    "merge": ("specs.commands", "merge_command"),
    "infer": ("specs.commands", "infer_command"),
    "diff": ("specs.diffing.command", "diff_command"),
    "check": ("specs.checking.command", "check_command"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _SUBCOMMANDS:
            return None
        module_name, attribute = _SUBCOMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise click.ClickException(f"'specs {cmd_name}' is not available: {exc}") from exc
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup)
def specs_group() -> None:
    """Infer OpenAPI 3.1 specs from traffic, merge summaries, diff specs, check traffic.

    \b
    Examples:
      restscope specs infer traffic.har --plugin flickr -o api.yaml
      restscope specs diff git:main:api.yaml api.yaml --format github
      restscope specs check api.yaml live.jsonl
    """
