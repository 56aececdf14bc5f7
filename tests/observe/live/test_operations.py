"""Per-operation statistics and the monitor's events."""

from __future__ import annotations

from observe.live.checking import Drift
from observe.live.monitor import LiveMonitor
from observe.live.operations import OTHER, OperationTable, normalise_path, operation_name
from tests.observe.live.helpers import make_exchange

T0 = 1_700_000_000.0


def test_operation_names_prefer_the_plugins_operation_id_then_a_normalised_path() -> None:
    assert operation_name(make_exchange(operation_id="flickr.photos.getInfo")) == \
        "flickr.photos.getInfo"
    assert operation_name(make_exchange("GET", "/users/42/photos?page=2")) == \
        "GET /users/{id}/photos"
    assert normalise_path("/v1/items/9f86d081884c7d65/notes/550e8400-e29b-41d4-a716-446655440000"
                          ) == "/v1/items/{id}/notes/{id}"
    assert normalise_path("/api/v2/search/me") == "/api/v2/search/me"


def test_counts_errors_rate_and_latency_quantiles() -> None:
    table = OperationTable()
    for i in range(100):
        status = 500 if i % 10 == 0 else 200
        table.add(make_exchange(target=f"/users/{i}", status=status, start=T0 + i * 0.5,
                                duration=0.001 * (i + 1)))
    (stats,) = list(table)
    assert stats.name == "GET /users/{id}"
    assert stats.count == 100 and stats.errors == 10
    assert stats.error_ratio == 0.1
    assert stats.first_seen == T0 and stats.last_seen == T0 + 49.5
    assert stats.rate(table.latest) == 100 / 50  # 100 requests over 50 seconds
    p50 = stats.latency.quantile(0.5)
    assert p50 is not None and abs(p50 - 0.050) < 0.001


def test_operations_past_the_cap_are_counted_together() -> None:
    table = OperationTable(max_operations=3)
    for i in range(10):
        table.add(make_exchange(operation_id=f"op{i}"))
    names = sorted(s.name for s in table)
    assert names == sorted([OTHER, "op0", "op1", "op2"])  # the cap, plus one OTHER row
    assert sum(s.count for s in table) == 10


def test_monitor_reports_a_new_operation_once() -> None:
    monitor = LiveMonitor()
    first = monitor.observe(make_exchange(target="/a"))
    second = monitor.observe(make_exchange(target="/a"))
    assert [e.kind for e in first] == ["new_operation"]
    assert first[0].operation == "GET /a"
    assert second == []


def test_monitor_reports_an_error_burst_when_it_starts_and_again_after_recovery() -> None:
    monitor = LiveMonitor()
    kinds = []
    for i in range(8):
        kinds += [e.kind for e in monitor.observe(make_exchange(status=503, start=T0 + i))]
    assert kinds.count("error_burst") == 1
    for i in range(30):  # recovery: successes well past the burst window
        monitor.observe(make_exchange(status=200, start=T0 + 20 + i))
    kinds = []
    for i in range(8):
        kinds += [e.kind for e in monitor.observe(make_exchange(status=503, start=T0 + 60 + i))]
    assert kinds.count("error_burst") == 1


def test_drift_findings_become_events_once_per_operation_rule_and_location() -> None:
    def check(exchange: object) -> list[Drift]:
        return [Drift("type-changed", "warning", "response.200.body/id", "integer, saw string")]

    monitor = LiveMonitor(check)
    first = monitor.observe(make_exchange())
    again = monitor.observe(make_exchange())
    assert [e.kind for e in first] == ["new_operation", "drift"]
    assert first[1].details["rule"] == "type-changed"
    assert again == []
    assert monitor.drift_total == 2
    assert monitor.recent_drifts[-1].count == 2


def test_a_failing_checker_is_counted_not_fatal() -> None:
    def check(exchange: object) -> list[Drift]:
        raise RuntimeError("boom")

    monitor = LiveMonitor(check)
    assert [e.kind for e in monitor.observe(make_exchange())] == ["new_operation"]
    assert monitor.check_failures == 1


def test_memory_does_not_grow_with_the_number_of_exchanges() -> None:
    """After every operation and latency bucket has been seen, more traffic costs no memory."""
    import random
    import tracemalloc

    from observe.exchange import Exchange, Request, Response, Timing

    rng = random.Random(3)
    latencies = [0.001, 0.5, 0.003, 0.02, 0.1, 0.25, 0.007, 0.04, 0.06, 0.3]
    ok, failed = Response(status=200), Response(status=500)
    monitor = LiveMonitor(lambda exchange: [Drift("r", "warning", "/x", "m")])

    def stream(count: int, offset: int) -> None:
        for i in range(offset, offset + count):
            start = T0 + i * 0.01
            duration = latencies[(i // 200) % len(latencies)]  # extremes come first
            monitor.observe(Exchange(
                request=Request(target=f"/items{i % 200}/{rng.randrange(10**9)}"),
                response=failed if i % 17 == 0 else ok,
                timing=Timing(start, start, start + duration, start + duration)))

    stream(4_000, 0)  # warm up: all 200 operations, their latency buckets, drift keys
    # tracemalloc only sees what is allocated after it starts, so measure between two
    # points that both come after a full pass of traced traffic
    tracemalloc.start()
    stream(7_000, 4_000)  # > 60 s of traffic: every rate-ring slot rewritten while traced
    before = tracemalloc.get_traced_memory()[0]
    stream(8_000, 11_000)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(monitor.table) == 200 and monitor.table.total == 19_000
    assert after - before < 16 * 1024, f"grew by {after - before} bytes"
