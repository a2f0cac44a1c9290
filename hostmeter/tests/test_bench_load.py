"""The load test's judging (bench.load_figures): percentiles and the goal, on made-up samples.

The load test itself runs a real panel and locust, in `make bench` only."""

from bench.load_figures import GOAL_P99_MS, by_page, percentile, verdict

SWARM = {"signed_in": 100, "users": 100, "exceptions": []}
READY = [{"format": "csv", "status": "ready", "generated_s": 20.0}]


def samples(name: str, ms: list[float], error: str = "") -> list[list]:
    return [[name, i * 0.1, m, error] for i, m in enumerate(ms)]


def test_nearest_rank_percentiles():
    values = list(range(1, 101))  # 1 … 100 ms
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    # one slow request in 100 is the 99th percentile's neighbour, not the percentile
    assert percentile([10.0] * 99 + [5000.0], 99) == 10.0
    assert percentile([10.0] * 98 + [5000.0] * 2, 99) == 5000.0


def test_pages_and_overall_are_summarized_busiest_first():
    pages = by_page(samples("summary", [10, 20, 30]) + samples("overview", [100]))
    assert list(pages) == ["summary", "overview", "all requests"]
    assert pages["summary"] == {
        "requests": 3,
        "failures": 0,
        "median_ms": 20,
        "p95_ms": 30,
        "p99_ms": 30,
        "max_ms": 30,
    }
    assert pages["all requests"]["requests"] == 4
    assert pages["all requests"]["max_ms"] == 100


def test_the_goal_is_met_under_300_ms_without_errors_with_the_report_ready():
    overall = by_page(samples("summary", [50.0] * 200))["all requests"]
    assert verdict(overall, READY, 60.0, SWARM) == []


def test_the_goal_is_missed_at_a_p99_of_300_ms():
    overall = by_page(samples("summary", [50.0] * 98 + [GOAL_P99_MS] * 2))["all requests"]
    assert verdict(overall, READY, 60.0, SWARM) == [f"p99 300 ms ≥ {GOAL_P99_MS} ms"]


def test_one_failed_request_misses_the_goal():
    measured = samples("summary", [50.0] * 99) + samples("summary", [5.0], "500")
    missed = verdict(by_page(measured)["all requests"], READY, 60.0, SWARM)
    assert missed == ["1 failed request(s)"]


def test_a_report_not_ready_in_the_window_or_never_requested_misses_the_goal():
    overall = by_page(samples("summary", [50.0] * 10))["all requests"]
    late = [{"format": "xlsx", "status": "ready", "generated_s": 61.0}]
    assert verdict(overall, late, 60.0, SWARM) == [
        "the xlsx report was Ready only after the window"
    ]
    failed = [{"format": "csv", "status": "failed", "generated_s": float("inf")}]
    assert verdict(overall, failed, 60.0, SWARM) == ["the csv report is failed"]
    assert verdict(overall, [], 60.0, SWARM) == ["the organizations report is never requested"]


def test_users_that_could_not_sign_in_miss_the_goal():
    overall = by_page(samples("summary", [50.0] * 10))["all requests"]
    swarm = SWARM | {"signed_in": 97}
    assert verdict(overall, READY, 60.0, swarm) == ["only 97 of 100 users signed in"]
