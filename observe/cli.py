"""The `restscope` command: its root group, `capture`, `demo`, and command discovery.

The root imports nothing above `observe`: other packages add their command groups through the
`restscope.commands` entry-point group (`specs`, `tapes`, ...). Every error restscope raises on
purpose becomes one line on stderr; unusable input exits with code 2. No tracebacks.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from observe.errors import InputError, RestscopeError
from observe.exchange import Exchange
from observe.options import plugin_options, read_options_from, traffic_reading_options
from observe.pipeline import LISTING_PARTS, PluginChain
from observe.report import (
    ByteProgress,
    check_complete,
    print_lines,
    print_summary,
    progress_reader,
)
from observe.tally import Tally

COMMAND_GROUP = "restscope.commands"
# commands of this package that live in their own modules, loaded only when used
_LAZY_COMMANDS = {
    "proxy": ("observe.live.commands", "proxy_command"),
    "sniff": ("observe.live.commands", "sniff_command"),
    "tail": ("observe.live.commands", "tail_command"),
}


class RestscopeGroup(click.Group):
    """A click group that adds entry-point commands and turns our errors into one line."""

    def _plugin_commands(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | set(self._plugin_commands())
        return sorted(names | set(_LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        if cmd_name in _LAZY_COMMANDS:
            module_name, attribute = _LAZY_COMMANDS[cmd_name]
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                raise click.ClickException(f"{cmd_name!r} is not available: {exc}") from exc
            lazy = getattr(module, attribute)
            assert isinstance(lazy, click.Command)
            return lazy
        entry = self._plugin_commands().get(cmd_name)
        if entry is None:
            return None
        try:
            loaded = entry.load()
        except ImportError as exc:
            raise click.ClickException(f"command {cmd_name!r} cannot load: {exc}") from exc
        return loaded if isinstance(loaded, click.Command) else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"restscope: error: {exc}", err=True)
            ctx.exit(2)
        except RestscopeError as exc:
            click.echo(f"restscope: error: {exc}", err=True)
            ctx.exit(1)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(0)


@click.group(cls=RestscopeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="restscope")
def cli() -> None:
    """restscope: watch HTTP API traffic and turn it into specs, drift reports and tapes.

    \b
    Examples:
      restscope capture traffic.pcap -o traffic.har
      restscope capture flickr.pcap --plugin flickr
      restscope specs infer traffic.har --plugin flickr -o api.yaml
      restscope tapes serve --upstream https://api.flickr.com --tapes tests/tapes
    """


def chain_from_options(kwargs: dict[str, Any], tally: Tally) -> PluginChain:
    """The plugin chain the traffic-reading options ask for (`--plugin`, `--plugin-config`,
    `--no-redact`, `--strict`), warnings on stderr."""
    return PluginChain.build(
        kwargs.get("plugins", ()),
        tally,
        config_path=kwargs.get("plugin_config"),
        redact=not kwargs.get("no_redact", False),
        strict=kwargs.get("strict", False),
        report_error=lambda line: click.echo(f"restscope: warning: {line}", err=True),
    )


def process_exchanges(
    paths: list[str], kwargs: dict[str, Any], tally: Tally
) -> Iterator[Exchange]:
    """Read every source, run the plugin chain, and count what comes out."""
    options = read_options_from(kwargs)
    chain = chain_from_options(kwargs, tally)
    for exchange in chain.run(progress_reader(paths, options, tally)):
        tally.exchange(exchange.incomplete)
        yield exchange


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the exchanges here (.har or .jsonl). Without it, one line per exchange is printed.",
)
@click.option(
    "--format", "output_format", type=click.Choice(["har", "jsonl"]),
    help="Output format; by default taken from the output file's extension.",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None,
    help="Processes for large pcap/pcapng files (default: all cores, up to 8; 1: read in this "
         "process). Each reassembles its share of the TCP connections; the output is the same "
         "as with -j 1.",
)
@traffic_reading_options
@plugin_options
def capture(sources: tuple[str, ...], output: Path | None, output_format: str | None,
            jobs: int | None, **kwargs: Any) -> None:
    """Read traffic (pcap, pcapng, HAR, JSONL, mitmproxy flows, vcrpy cassettes, tapes) into
    HTTP exchanges, and write them as HAR or JSONL.

    The format of each SOURCE is detected from its content. At the end a summary on stderr
    counts exchanges, incomplete exchanges, and everything skipped, by reason.

    \b
    Examples:
      restscope capture traffic.pcap -o traffic.har
      restscope capture a.pcapng b.har --filter api.example.com:443 -o all.jsonl
      restscope capture examples/flickr-sample.pcap --plugin flickr
      restscope capture big.pcap -j 1 -o big.jsonl   # one process
    """
    from observe.capturing import capture_items, default_jobs, output_kind
    from observe.formats.writers import format_for, item_writer

    tally = Tally()
    options = read_options_from(kwargs)
    format_name = None if output is None else format_for(output, output_format)
    write = None if format_name is None else item_writer(format_name)
    chain = chain_from_options(kwargs, tally)
    if format_name is None:
        chain.output_shows(LISTING_PARTS)
    kind = output_kind(format_name or "lines")
    with ByteProgress([Path(s) for s in sources]) as progress:
        items = capture_items(list(sources), options, chain, tally, kind,
                              jobs or default_jobs(), progress)
        if output is None or write is None:
            print_lines(items, progress)
        else:
            with open(output, "w", encoding="utf-8", newline="\n") as handle:
                write(items, handle)
    print_summary(tally, sources)
    check_complete(tally, kwargs.get("allow_truncated", False))


@cli.command()
@click.option("--sample", type=click.Path(exists=True, path_type=Path), default=None,
              help="Capture file to run on (default: the embedded Flickr-style sample).")
def demo(sample: Path | None) -> None:
    """Run the main job on the embedded Flickr-style sample capture.

    Reads examples/flickr-sample.pcap, rewrites Flickr RPC calls into REST form with the flickr
    plugin when it is installed, and prints each exchange and the run summary.

    \b
    Example:
      restscope demo
    """
    from observe.demo import run_demo

    run_demo(sample)


def main() -> None:
    cli(prog_name="restscope")


if __name__ == "__main__":
    main()
