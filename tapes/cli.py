"""The `restscope tapes` command group: serve, import, export, check.

Heavy modules load inside each command, so `restscope --help` stays fast. Bad input becomes
one line on stderr (InputError, exit 2) through the root group.
"""

from __future__ import annotations

from pathlib import Path

import click

from observe.errors import InputError


@click.group("tapes")
def tapes_group() -> None:
    """Record and replay HTTP interactions as human-readable tapes (a yakbak-style proxy).

    \b
    Examples:
      restscope tapes serve --upstream https://api.flickr.com --tapes tests/tapes
      restscope tapes import cassettes/*.yaml --tapes tests/tapes
      restscope tapes check tests/tapes --spec api.yaml
    """


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise InputError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:0")
    return host.strip("[]") or "127.0.0.1", int(port)


@tapes_group.command()
@click.option("--upstream", required=True, help="The API to forward to, e.g. https://api.flickr.com")
@click.option("--tapes", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The tape folder.")
@click.option("--mode", type=click.Choice(["replay", "record", "overwrite", "passthrough"]),
              default="replay", show_default=True)
@click.option("--listen", default="127.0.0.1:0", show_default=True, help="HOST:PORT to listen on.")
@click.option("--ca", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CA bundle to verify the upstream's TLS certificate with.")
@click.option("--sequence", is_flag=True, help="Play the n-th identical request from the n-th "
              "recording (stateful flows).")
@click.option("--latency", default=None, help="'recorded' or a fixed delay in milliseconds.")
@click.option("--ignore-param", "ignore", multiple=True,
              help="Another query/form parameter (glob) to leave out of matching.")
@click.option("--match-header", "match_headers", multiple=True,
              help="A header that is part of the matching key.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes sharing the listening socket (more throughput on more cores).")
def serve(upstream: str, folder: Path, mode: str, listen: str, ca: str | None, sequence: bool,
          latency: str | None, ignore: tuple[str, ...], match_headers: tuple[str, ...],
          workers: int) -> None:
    """Serve tapes from FOLDER, forwarding misses to UPSTREAM when recording.

    \b
    Examples:
      restscope tapes serve --upstream https://api.flickr.com --tapes tests/tapes
      restscope tapes serve --upstream https://api.flickr.com --tapes t --mode record
    """
    from tapes.matching import load_folder_config
    from tapes.proxy import ProxySettings
    from tapes.runner import serve_forever

    host, port = _listen(listen)
    if mode in ("record", "overwrite"):
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise InputError(f"{folder}: no such tape folder (record first with --mode record)")
    if latency is not None and latency != "recorded":
        try:
            float(latency)
        except ValueError:
            raise InputError(f"--latency {latency!r}: use 'recorded' or milliseconds") from None
    config = load_folder_config(folder).merged(
        sequence=sequence or None, latency=latency,
        headers=match_headers or None, ignore_params_extra=ignore,
    )
    settings = ProxySettings(upstream=upstream, folder=folder, mode=mode, match=config, ca=ca)
    if workers > 1 and (config.sequence or mode == "overwrite"):
        raise InputError("--sequence and --mode overwrite need one process (--workers 1): "
                         "what was already played or re-recorded is kept in memory")
    serve_forever(settings, host, port,
                  lambda url: click.echo(f"restscope tapes: {mode} on {url} -> {upstream}"),
                  workers=workers)


@tapes_group.command("import")
@click.argument("sources", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--tapes", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The tape folder to write into.")
def import_command(sources: tuple[Path, ...], folder: Path) -> None:
    """Import vcrpy cassettes (YAML/JSON), HAR files and yakbak tape folders as tapes.

    yakbak's .js tapes are read as data, never executed. Secrets are redacted before writing.

    \b
    Examples:
      restscope tapes import test/tapes --tapes tests/tapes          # a yakbak folder
      restscope tapes import cassettes/*.yaml traffic.har --tapes tests/tapes
    """
    from observe.tally import Tally
    from tapes.interop import import_sources

    tally = Tally()
    result = import_sources(list(sources), folder, tally)
    click.echo(f"restscope tapes: wrote {len(result.written)} tape(s) into {folder}")
    for path, note in result.raw_bodies:
        click.echo(f"  kept raw: {path.relative_to(folder.resolve())}: {note}", err=True)
    for (kind, reason), count in sorted(tally.skipped.items()):
        click.echo(f"  skipped {count} {kind}(s): {reason}", err=True)


@tapes_group.command("export")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (.yaml/.yml/.json cassette or .har).")
@click.option("--format", "fmt", type=click.Choice(["cassette", "har"]), default=None,
              help="Output format; by default from the output file's extension.")
def export_command(folder: Path, output: Path, fmt: str | None) -> None:
    """Export a tape folder as one vcrpy cassette or one HAR file.

    \b
    Examples:
      restscope tapes export tests/tapes -o cassette.yaml
      restscope tapes export tests/tapes -o tapes.har
    """
    from observe.tally import Tally
    from tapes.interop import export_folder

    if fmt is None:
        fmt = "har" if output.suffix.lower() == ".har" else "cassette"
    tally = Tally()
    export_folder(folder, output, fmt, tally)
    click.echo(f"restscope tapes: exported {tally.exchanges} tape(s) to {output} ({fmt})")
    for (kind, reason), count in sorted(tally.skipped.items()):
        click.echo(f"  skipped {count} {kind}(s): {reason}", err=True)


@tapes_group.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--spec", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The OpenAPI spec the tapes should still match.")
def check_command(folder: Path, spec: Path) -> None:
    """List tapes that no longer match the current spec (fixtures gone stale).

    Exits 1 when any tape is stale.

    \b
    Example:
      restscope tapes check tests/tapes --spec api.yaml
    """
    from observe.tally import Tally
    from tapes.interop import folder_exchanges

    try:
        from specs.checking.live import build_checker
    except ImportError as exc:
        raise click.ClickException(
            f"'tapes check' needs the specs checker (specs.checking.live), not installed: {exc}"
        ) from exc
    checker = build_checker(str(spec))
    tally = Tally()
    stale = 0
    for exchange in folder_exchanges(folder, tally):
        tally.exchange(exchange.incomplete)
        problems = checker.check(exchange)
        if problems:
            stale += 1
            click.echo(f"stale: {exchange.origin.location}")
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                click.echo(f"  - {_describe(problem)}")
    click.echo(f"restscope tapes: {stale} of {tally.exchanges} tape(s) do not match {spec}")
    if stale:
        raise SystemExit(1)


def _describe(problem: object) -> str:
    """One line for a checker finding (rule, message, where), or its string form."""
    rule, message = getattr(problem, "rule", None), getattr(problem, "message", None)
    if rule is None or message is None:
        return str(problem)
    location = getattr(problem, "location", "")
    return f"{rule}: {message}" + (f" ({location})" if location else "")
