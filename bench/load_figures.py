"""The load test's figures (bench.load): nearest-rank percentiles of every page's
requests, the goal's verdict, and the tables and lines it prints. Pure: no process, no
database."""

import math
import statistics

from bench.runner import percentile

GOAL_P99_MS = 300


def summarize(samples: list[list]) -> dict:
    """[name, start s, ms, error] rows → requests, failures, median, p95, p99, max."""
    ms = [s[2] for s in samples]
    if not ms:
        return {"requests": 0, "failures": 0}
    return {
        "requests": len(ms),
        "failures": sum(1 for s in samples if s[3]),
        "median_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }


def by_page(samples: list[list]) -> dict[str, dict]:
    """The summary of every page's requests, busiest first, and of all of them."""
    names: dict[str, list[list]] = {}
    for s in samples:
        names.setdefault(s[0], []).append(s)
    pages = {n: summarize(rows) for n, rows in sorted(names.items(), key=lambda i: -len(i[1]))}
    return pages | {"all requests": summarize(samples)}


def verdict(overall: dict, reports: list[dict], window: float, swarm: dict) -> list[str]:
    """What misses the goal (an empty list when everything meets it)."""
    missed = []
    if not overall.get("requests"):
        missed.append("no request was measured")
    elif overall["p99_ms"] >= GOAL_P99_MS:
        missed.append(f"p99 {overall['p99_ms']:.0f} ms ≥ {GOAL_P99_MS} ms")
    if overall.get("failures"):
        missed.append(f"{overall['failures']} failed request(s)")
    if swarm["signed_in"] < swarm["users"]:
        missed.append(f"only {swarm['signed_in']} of {swarm['users']} users signed in")
    if swarm["exceptions"]:
        missed.append(f"{len(swarm['exceptions'])} kinds of errors in the users' tasks")
    for r in reports or [{"format": "organizations", "status": "never requested"}]:
        if r["status"] != "ready":
            missed.append(f"the {r['format']} report is {r['status']}")
        elif r["generated_s"] > window:
            missed.append(f"the {r['format']} report was Ready only after the window")
    return missed


# ---------------------------------------------------------------- an engine's run


def result_of(engine: str, run: dict) -> dict:
    """The tables' figures of one engine's run."""
    swarm = run["swarm"]
    t0, window = swarm["window_start"], swarm["window_end"] - swarm["window_start"]
    reports = [
        r
        | {
            "started_s": r["started_at"] - t0 if r["started_at"] else None,
            "generated_s": r["generated_at"] - t0 if r["generated_at"] else math.inf,
        }
        for r in run["reports"]
    ]
    pages = by_page(swarm["samples"])
    during = []
    if reports and all(r["started_s"] is not None for r in reports):
        first = min(r["started_s"] for r in reports)
        last = min(window, max(r["generated_s"] for r in reports))
        during = [s for s in swarm["samples"] if first <= s[1] <= last]
    errors: dict[str, int] = {}
    for name, _, _, error in swarm["samples"] + swarm["sign_ins"]:
        if error:
            errors[f"{name}: {error}"] = errors.get(f"{name}: {error}", 0) + 1
    return {
        "engine": engine,
        "engine_version": run["data"]["engine_version"],
        "errors": errors,
        "window_s": window,
        "pages": pages,
        "during_report": summarize(during),
        "sign_in": summarize(swarm["sign_ins"]),
        "reports": reports,
        "missed": verdict(pages["all requests"], reports, window, swarm),
        "swarm": {k: v for k, v in swarm.items() if k not in ("samples", "sign_ins")},
        "prepare_s": run["data"]["prepare_s"],
        "counts": run["data"]["counts"],
        "serve_log": run["serve_log"],
        "serve_options": run["serve_options"],
    }


def table(results: list[dict]) -> str:
    lines = [
        "| engine | page | requests | failures | median ms | p95 ms | p99 ms | max ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]

    def row(engine: str, name: str, s: dict) -> str:
        if not s.get("requests"):
            return f"| {engine} | {name} | 0 | 0 | – | – | – | – |"
        p99 = f"{s['p99_ms']:.0f}"
        return (
            f"| {engine} | {name} | {s['requests']:,} | {s['failures']} "
            f"| {s['median_ms']:.0f} | {s['p95_ms']:.0f} "
            f"| {f'**{p99}**' if s['p99_ms'] >= GOAL_P99_MS else p99} | {s['max_ms']:.0f} |"
        )

    for r in results:
        for name, s in r["pages"].items():
            lines.append(row(r["engine_version"], name, s))
        lines.append(row(r["engine_version"], "(while the report generated)", r["during_report"]))
        lines.append(
            row(r["engine_version"], "(sign-in, before the window; not judged)", r["sign_in"])
        )
    return "\n".join(lines)


def report_lines(r: dict) -> list[str]:
    lines = []
    for rep in r["reports"]:
        when = (
            f"started {rep['started_s']:.1f} s into the window, Ready at {rep['generated_s']:.1f} s"
            if rep["status"] == "ready"
            else f"status {rep['status']} {rep['error']}".strip()
        )
        rows = f"{rep['rows']:,} rows" if rep["rows"] is not None else "no rows"
        lines.append(f"{r['engine_version']}: organizations report {rep['format']}: {rows}, {when}")
    seen = r["swarm"]["reporter"]["ready_seen"]
    if seen is not None:
        lines.append(f"{r['engine_version']}: the export tab showed it done at {seen:.1f} s")
    return lines


def cores(cpu_s: dict[str, float], window: float) -> str:
    """CPU seconds per process in the window → cores each used, the rest as "others"."""
    ours = {k: v for k, v in cpu_s.items() if k != "machine"}
    others = cpu_s["machine"] - sum(ours.values())
    return ", ".join(f"{k} {v / window:.2f}" for k, v in (ours | {"others": others}).items())


def verdicts(results: list[dict]) -> bool:
    """Prints what each engine's run did and whether it met the goal; True when all did."""
    met = True
    for r in results:
        for line in report_lines(r):
            print(line)
        s, overall = r["swarm"], r["pages"]["all requests"]
        print(
            f"{r['engine_version']}: {s['signed_in']} of {s['users']} users signed in within "
            f"{s['sign_in_s']:.0f} s; window {r['window_s']:.0f} s, "
            f"{overall['requests'] / r['window_s']:.1f} requests/s; machine CPU busy "
            f"{s['cpu_busy']:.0%} in it; cores used: {cores(s['cpu_s'], r['window_s'])}; "
            f"load average {s['load_before']} as it opened; "
            f"run took {r['wall_s'] / 60:.1f} min "
            f"({r['prepare_s']:.0f} s preparing the data); "
            f"serve {' '.join(r['serve_options']) or 'with its defaults'}"
        )
        for e, n in sorted(r["errors"].items(), key=lambda i: -i[1])[:10]:
            print(f"{r['engine_version']}: {n} × {e}")
        for e in s["exceptions"]:
            print(f"{r['engine_version']}: a user's task raised: {e}")
        if r["missed"]:
            met = False
            print(f"{r['engine_version']}: goal MISSED: " + "; ".join(r["missed"]))
        else:
            print(
                f"{r['engine_version']}: goal met: p99 {overall['p99_ms']:.0f} ms "
                f"< {GOAL_P99_MS} ms, 0 errors, report Ready in the window"
            )
    return met
