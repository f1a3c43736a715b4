"""Run test files several times in a row and record pass counts, durations and the machine's load.

The proof issue 13 asks for: the crash tests pass 10 runs out of 10 and the stress test repeatedly,
on the loaded shared 2-core machine. Each run is a fresh `pytest` process (`nice -n 10`); the load
average is sampled every 5 s while it runs.

    python -m benchmarks.repeat_tests --runs tests/test_crash.py=10 --runs tests/test_stress.py=3 \
        --out benchmarks/results/crash_repeat.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_once(test: str) -> dict[str, Any]:
    """One pytest run of `test`: outcome, duration, load average at start/end and its mean over the run."""
    command = ["nice", "-n", "10", sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"]
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while True:
            samples.append(os.getloadavg()[0])
            if stop.wait(5.0):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    load_start = os.getloadavg()
    sampler.start()
    t0 = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    stop.set()
    sampler.join()
    summary = (run.stdout.strip().splitlines() or [""])[-1]
    return {
        "passed": run.returncode == 0,
        "returncode": run.returncode,
        "seconds": round(seconds, 1),
        "summary": summary,
        "load_1min_start": round(load_start[0], 2),
        "load_1min_mean": round(sum(samples) / len(samples), 2),
        "load_1min_max": round(max(samples), 2),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds)),
        "tail": "" if run.returncode == 0 else (run.stdout + run.stderr)[-4000:],
    }


def main() -> None:
    """Run each `--runs FILE=N` N times in a row and write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", action="append", required=True, help="TEST_FILE=N (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report: dict[str, Any] = {
        "command": "python -m benchmarks.repeat_tests " + " ".join(f"--runs {r}" for r in args.runs)
        + f" --out {args.out}",
        "each_run": "nice -n 10 python -m pytest TEST_FILE -q -p no:cacheprovider",
        "commit": commit,
        "cores": os.cpu_count(),
        "tests": {},
    }
    for spec in args.runs:
        test, _, count = spec.partition("=")
        runs = []
        for i in range(int(count)):
            result = run_once(test)
            runs.append(result)
            print(f"{test} run {i + 1}/{count}: {'pass' if result['passed'] else 'FAIL'} {result['seconds']} s "  # noqa: T201
                  f"load {result['load_1min_mean']} ({result['summary']})", flush=True)
            report["tests"][test] = {
                "passed": sum(r["passed"] for r in runs),
                "runs": len(runs),
                "seconds": [r["seconds"] for r in runs],
                "load_1min_mean": [r["load_1min_mean"] for r in runs],
                "detail": runs,
            }
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
