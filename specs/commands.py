"""`restscope specs summarize | merge | infer`: the command-line side of inference.

Thin: options are parsed here, the work is done by `specs.run` (reading and summarising),
`specs.openapi` (rendering), `specs.drift` (the report) and `specs.update` (--update).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from observe.options import plugin_options, traffic_reading_options
from observe.report import check_complete, print_summary
from observe.tally import Tally

_jobs_option = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None,
    help="Worker processes, one per file (default: all cores). Output is the same for any N.",
)


_dask_option = click.option(
    "--dask", metavar="TARGET", default=None,
    help="Run the summaries on Dask: a scheduler address (tcp://host:8786) or local[:N] for a "
         "local cluster of N workers. Sources may then be globs and fsspec URLs (s3://, gs://). "
         "Needs: pip install 'restscope[dask]'.",
)


def _summarize(sources: list[str], kwargs: dict[str, Any], jobs: int | None, dask: str | None,
               tally: Tally) -> Any:
    """Summaries from local worker processes (`-j`), or from a Dask cluster (`--dask`)."""
    if dask:
        from specs.distributed import summarize_on_dask

        return summarize_on_dask(sources, kwargs, dask, tally)
    from specs.run import summarize_sources

    return summarize_sources(sources, kwargs, jobs, tally)


@click.command("summarize")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Summary file to write (add .gz to compress).")
@_jobs_option
@_dask_option
@traffic_reading_options
@plugin_options
def summarize_command(sources: tuple[str, ...], output: Path, jobs: int | None,
                      dask: str | None, **kwargs: Any) -> None:
    """Summarise traffic into a mergeable, versioned summary file.

    \b
    Examples:
      restscope specs summarize monday.har tuesday.pcap --plugin flickr -o week.summary
    """
    from specs.summary_file import write_summary

    tally = Tally()
    summary = _summarize(list(sources), kwargs, jobs, dask, tally)
    write_summary(summary, output)
    print_summary(tally, sources)
    check_complete(tally, kwargs.get("allow_truncated", False))


@click.command("merge")
@click.argument("summaries", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Summary file to write.")
def merge_command(summaries: tuple[Path, ...], output: Path) -> None:
    """Merge summary files (in any order: the result is the same).

    \b
    Example:
      restscope specs merge host-a.summary host-b.summary -o all.summary
    """
    from specs.summary import ApiSummary
    from specs.summary_file import load_summary, write_summary

    total = ApiSummary()
    for path in summaries:
        total = total.merge(load_summary(path))
    write_summary(total, output)


@click.command("infer")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Spec to write (.yaml/.yml or .json). Default: YAML on stdout.")
@click.option("--openapi", "openapi_version", type=click.Choice(["3.1", "3.0"]), default="3.1",
              show_default=True, help="OpenAPI version of the output.")
@click.option("--drift-report", type=click.Choice(["text", "markdown", "json"]), default=None,
              help="Print every type/format drift, most suspicious first.")
@click.option("--explain", is_flag=True, help="Print why each path segment became a parameter.")
@click.option("--update", "update_path", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Merge the traffic into this existing spec, keeping edits.")
@click.option("--prune", is_flag=True,
              help="With --update: remove operations and fields the traffic no longer shows.")
@click.option("--title", default="Inferred API", show_default=True, help="info.title")
@click.option("--no-examples", is_flag=True, help="Leave examples out of schemas.")
@_jobs_option
@_dask_option
@traffic_reading_options
@plugin_options
def infer_command(sources: tuple[str, ...], output: Path | None, openapi_version: str,
                  drift_report: str | None, explain: bool, update_path: Path | None,
                  prune: bool, title: str, no_examples: bool, jobs: int | None,
                  dask: str | None, **kwargs: Any) -> None:
    """Infer an OpenAPI spec from traffic (pcap, HAR, JSONL, flows, cassettes, tapes or
    summary files).

    \b
    Examples:
      restscope specs infer traffic.har --plugin flickr -o api.yaml
      restscope specs infer a.pcap b.pcap -j 4 --drift-report markdown -o api.json
      restscope specs infer new.har --update api.yaml
      restscope specs infer 's3://captures/2026-11-*/*.pcap' --dask tcp://scheduler:8786
    """
    from specs.document import write_document
    from specs.drift import collect_drift, render_drift
    from specs.openapi import RenderOptions, group_operations, render_openapi

    if prune and update_path is None:
        raise click.UsageError("--prune only makes sense with --update SPEC")
    tally = Tally()
    summary = _summarize(list(sources), kwargs, jobs, dask, tally)
    grouped = group_operations(summary)
    existing = None
    if update_path is not None:
        from specs.document import read_document

        existing = read_document(update_path)
        if str(existing.get("openapi", "")).startswith("3.0"):
            openapi_version = "3.0"
    options = RenderOptions(title=title, openapi=openapi_version, examples=not no_examples,
                            components=existing is None)
    doc = render_openapi(summary, options, grouped)
    if existing is not None and update_path is not None:
        from specs.update import update_document

        doc = update_document(existing, doc, prune=prune)
        output = output or update_path
    text = write_document(doc, output)
    if output is None:
        sys.stdout.write(text)
    err = output is None
    if explain:
        click.echo("Path templating:", err=err)
        for line in grouped.templating.explanations:
            click.echo(f"  {line}", err=err)
    if drift_report:
        click.echo(render_drift(collect_drift(grouped), drift_report), nl=False, err=err)
    print_summary(tally, sources)
    check_complete(tally, kwargs.get("allow_truncated", False))
