"""What every benchmark's driver shares: the common options, the main() of a benchmark
with one worker per engine, a step run in a fresh process and the JSON it answers with,
the raw results file and the table, and nearest-rank percentiles."""

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from bench.bulk import ROOT

ENGINES = ("sqlite", "postgres")


def parser(doc: str, **numbers: tuple[int, str]) -> argparse.ArgumentParser:
    """The options every benchmark takes (--engines, --json) and the hidden --worker that
    makes the process one engine's worker, then an integer option for each of numbers
    (orgs=(2000, "organizations") is --orgs, default 2000); the description is the
    docstring's first paragraph."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--engines",
        default=os.environ.get("BENCH_ENGINES", ",".join(ENGINES)),
        help="comma-separated: sqlite, postgres",
    )
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    for name, (default, text) in numbers.items():
        parser.add_argument(_flag(name), type=int, default=default, help=text)
    return parser


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def forwarded(args, *names: str) -> list[str]:
    """These options of args as a worker's command line gives them again:
    forwarded(args, "orgs") is ["--orgs", "2000"]."""
    return [part for name in names for part in (_flag(name), str(getattr(args, name)))]


def engines(args) -> list[str]:
    return [e.strip() for e in args.engines.split(",") if e.strip()]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without its HOSTMETER_ settings (a worker sets its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTMETER_")}
    return env | extra


def child_json(cmd: list[str], what: str, *, env: dict | None = None, timeout=None):
    """Runs a step in a session of its own (its whole process group is killed on the way
    out, whatever it started) and returns the JSON on the last line of its output."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.returncode:
        raise SystemExit(f"{what} failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def worker_run(module: str, engine: str, options: list[str], what: str) -> dict:
    """`python -m <module> --worker <engine> <options>` in a fresh process with a clean
    environment (its own settings, its own peak memory): its answer, and the wall time
    it took as wall_s."""
    print(f"== {what}", file=sys.stderr, flush=True)
    cmd = [sys.executable, "-m", module, "--worker", engine, *options]
    start = time.perf_counter()
    result = child_json(cmd, what, env=clean_env())
    result["wall_s"] = time.perf_counter() - start
    return result


def engines_run(args, module: str, options: list[str], title: str) -> list[dict]:
    """worker_run for every engine of --engines, one after the other."""
    return [worker_run(module, engine, options, f"{title}, {engine}") for engine in engines(args)]


def engines_main(args, worker, *, module: str, title: str, forward, table, verdicts) -> int:
    """main() of a benchmark with one worker per engine: in a --worker process, worker(args)'s
    answer; in the driver, every engine's worker given the options named in forward, the
    results shown (table(results) makes the table) and verdicts(results), the exit
    status."""
    if args.worker:
        return answer(worker(args))
    results = engines_run(args, module, forwarded(args, *forward), title)
    results_show(results, table(results), args.json)
    return verdicts(results)


def answer(result) -> int:
    """A worker's answer to its driver: the JSON on its output's last line."""
    print(json.dumps(result))
    return 0


def results_show(results: list, table: str, json_path: str | None) -> None:
    """The raw results into --json's file (when given), the table between blank lines."""
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(results, indent=2))
    print()
    print(table)
    print()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
