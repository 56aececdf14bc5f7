"""`restscope demo`: the main job on the embedded Flickr-style sample, end to end.

Steps, each through the public command line so the demo shows what a user would type:
1. `capture --plugin flickr` on examples/flickr-sample.pcap: one line per exchange (REST paths)
   and the run summary;
2. when the `specs` command group is installed: `specs infer --plugin flickr` writes the
   inferred OpenAPI spec to demo-out/ and prints the drift report.
`observe` does not import the other packages: it finds them through entry points.
"""

from __future__ import annotations

from pathlib import Path

import click

from observe.errors import InputError
from observe.pipeline import available_plugins

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "flickr-sample.pcap"
OUT_DIR = Path("demo-out")


def _run(args: list[str]) -> None:
    from observe.cli import cli

    click.secho(f"\n$ restscope {' '.join(args)}", fg="cyan", bold=True, err=True)
    try:
        cli.main(args=args, prog_name="restscope", standalone_mode=False)
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise


def run_demo(sample: Path | None) -> None:
    sample = sample or SAMPLE
    if not sample.exists():
        raise InputError(f"{sample}: the demo sample is missing; pass --sample FILE")
    plugins = ["--plugin", "flickr"] if "flickr" in available_plugins() else []
    _run(["capture", str(sample), *plugins])
    from observe.cli import cli

    ctx = click.Context(cli)
    if "specs" in cli.list_commands(ctx):
        OUT_DIR.mkdir(exist_ok=True)
        spec = OUT_DIR / "flickr-sample.openapi.yaml"
        _run(["specs", "infer", str(sample), *plugins, "-j", "1", "-o", str(spec),
              "--drift-report", "text"])
        click.secho(f"\nspec written to {spec}", fg="green", err=True)
