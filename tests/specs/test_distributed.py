"""Inference on Dask gives the same spec as one process, even when a worker dies mid-job.

A real `LocalCluster` (worker processes on this machine) runs the per-file summary tasks and
the tree reduction; the spec it renders must be byte-identical to `-j 1` on the same inputs:
real corpus captures (pcaps, HARs, cassettes) plus generated Flickr-style traffic.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from observe.cli import cli
from observe.tally import Tally
from specs.distributed import DaskTarget, expand_sources, summarize_job, summarize_on_dask
from specs.run import summarize_sources
from tests.conftest import corpus_path

pytest.importorskip("distributed")

pytestmark = [pytest.mark.xdist_group("dask"), pytest.mark.timeout(240)]


def _inputs(tmp_path: Path) -> list[str]:
    corpus = [
        corpus_path("pcap", "zeek__post.pcap"),
        corpus_path("pcap", "zeek__get-gzip.pcap"),
        corpus_path("pcap", "akita-cli__simple_http_two.pcap"),
        corpus_path("har", "mitmproxy__flows_successful_log.har"),
        corpus_path("har", "mitmproxy__har_files_insomnia.har"),
        corpus_path("vcr_cassettes", "tweepy__testgeoapis.json"),
        corpus_path("flickr_responses", "xml_vcr_cassettes",
                    "flickr-photos-api__test_get_public_photos_by_user.yml"),
    ]
    sample = Path(__file__).resolve().parents[2] / "examples" / "flickr-sample.pcap"
    # a generated file of our own beside the real ones: the embedded sample, under two names
    copies = []
    for name in ("a-sample.pcap", "b-sample.pcap"):
        target = tmp_path / name
        target.write_bytes(sample.read_bytes())
        copies.append(target)
    return [str(p) for p in (*corpus, *copies)]


def test_dask_target_parsing_explains_what_to_type() -> None:
    assert DaskTarget.parse("local:3") == DaskTarget(workers=3)
    assert DaskTarget.parse("local") == DaskTarget()
    assert DaskTarget.parse("tcp://scheduler:8786") == DaskTarget(address="tcp://scheduler:8786")
    with pytest.raises(Exception, match="tcp://scheduler:8786"):
        DaskTarget.parse("scheduler:8786")


def test_globs_expand_sorted_and_missing_files_are_refused(tmp_path: Path) -> None:
    for name in ("b.har", "a.har", "c.txt"):
        (tmp_path / name).write_text("{}")
    assert expand_sources([str(tmp_path / "*.har")]) == [str(tmp_path / "a.har"),
                                                         str(tmp_path / "b.har")]
    with pytest.raises(Exception, match="no file matches"):
        expand_sources([str(tmp_path / "*.pcap")])


def test_spec_from_a_local_cluster_is_byte_identical_to_one_process(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    runner = CliRunner()
    single = tmp_path / "single.yaml"
    dask = tmp_path / "dask.yaml"
    first = runner.invoke(cli, ["specs", "infer", *inputs, "--plugin", "flickr", "-j", "1",
                                "-o", str(single)])
    assert first.exit_code == 0, first.output
    # the reversed input order must not matter either
    second = runner.invoke(cli, ["specs", "infer", *reversed(inputs), "--plugin", "flickr",
                                 "--dask", "local:3", "-o", str(dask)])
    assert second.exit_code == 0, second.output
    assert "/photos/getInfo" in single.read_text()
    assert dask.read_bytes() == single.read_bytes()


def _die_once(marker: str, job: tuple) -> tuple:
    """A task that kills its worker process the first time it sees the sample file."""
    if job[0].endswith("a-sample.pcap") and not os.path.exists(marker):
        Path(marker).write_text("killed")
        os._exit(1)
    return summarize_job(job)


def test_a_worker_killed_mid_job_does_not_change_the_result(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    kwargs = {"plugins": ("flickr",), "filters": (), "max_body_size": "10MB"}
    expected = summarize_sources(inputs, kwargs, 1, Tally())
    marker = tmp_path / "killed.marker"
    tally = Tally()
    result = summarize_on_dask(inputs, kwargs, "local:2", tally, show_progress=False,
                               task=functools.partial(_die_once, str(marker)))
    assert marker.exists(), "the injected failure never ran"
    assert result == expected
    assert tally.exchanges > 0
