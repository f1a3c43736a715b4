"""Shared helpers for the benchmarks: machine info, percentiles, a `chroma run` server, results files."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from pathlib import Path

from scripts.servers import ChromaServer  # noqa: F401 - re-exported for the benchmarks

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    """Cores, memory and versions of the machine the benchmark ran on."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "python": sys.version.split()[0],
            "platform": platform.platform()}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write(name: str, data: dict[str, object]) -> Path:
    """Write benchmarks/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2) + "\n")
    print(f"wrote {path}")
    return path
