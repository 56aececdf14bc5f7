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
    """Record and replay HTTP interactions as human-readable tapes (a yakbak-style proxy)."""


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
def serve(upstream: str, folder: Path, mode: str, listen: str, ca: str | None, sequence: bool,
          latency: str | None, ignore: tuple[str, ...], match_headers: tuple[str, ...]) -> None:
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
    serve_forever(settings, host, port,
                  lambda url: click.echo(f"restscope tapes: {mode} on {url} -> {upstream}"))
