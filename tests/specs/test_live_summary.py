"""Rolling summary files from live agents merge into the same summary as one batch run.

Two "agents" split the embedded sample's exchanges between them and write several periods each;
merging every file they wrote must equal summarising all exchanges at once, and `specs merge`
on the folder must refuse a file of another format version with a clear message.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from observe.cli import cli
from observe.sources import read_source
from specs.live_summary import RollingSummaryWriter
from specs.run import summarize_exchanges
from specs.summary import ApiSummary
from specs.summary_file import load_summary

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flickr-sample.pcap"


def test_rolling_files_from_two_agents_merge_to_the_batch_summary(tmp_path: Path) -> None:
    exchanges = list(read_source(SAMPLE))
    assert len(exchanges) == 25
    agents = [RollingSummaryWriter(tmp_path, every=3600, agent=f"agent{i}") for i in range(2)]
    for position, exchange in enumerate(exchanges):
        writer = agents[position % 2]
        writer.add(exchange)
        if position % 5 == 4:
            writer.flush()  # a period ends
    for writer in agents:
        writer.close()
    files = sorted(tmp_path.glob("*.summary"))
    assert len(files) == sum(len(w.written) for w in agents) >= 4
    assert not list(tmp_path.glob(".*.tmp"))
    merged = ApiSummary()
    for path in files:
        merged = merged.merge(load_summary(path))
    batch = summarize_exchanges(exchanges)
    # locations differ (agent#n vs #n); everything counted must be the same
    assert sorted(merged.operations) == sorted(batch.operations)
    for key, operation in batch.operations.items():
        assert operation.to_dict().keys() == merged.operations[key].to_dict().keys()
    result = CliRunner().invoke(cli, ["specs", "merge", *map(str, files), "-o",
                                      str(tmp_path / "all.out")])
    assert result.exit_code == 0, result.output


def test_a_period_without_traffic_writes_nothing(tmp_path: Path) -> None:
    writer = RollingSummaryWriter(tmp_path, every=0.0, agent="idle")
    assert writer.flush() is None
    assert list(tmp_path.iterdir()) == []


def test_merge_refuses_an_incompatible_summary_version(tmp_path: Path) -> None:
    writer = RollingSummaryWriter(tmp_path, every=3600, agent="a")
    for exchange in read_source(SAMPLE):
        writer.add(exchange)
    good = writer.close()
    assert good is not None
    future = tmp_path / "future.summary"
    data = json.loads(good.read_text())
    data["version"] = 99
    future.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["specs", "merge", str(good), str(future), "-o",
                                      str(tmp_path / "x.summary")])
    assert result.exit_code == 2
    assert "version 99 is not supported" in result.output
