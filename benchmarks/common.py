"""Shared helpers for the benchmarks: machine info, percentiles, a `chroma run` server, results files."""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from assistant.chunk import chunk_document
from assistant.ingest import indexed_text
from assistant.load import load_file
from assistant.settings import Settings
from assistant.tokens import count_tokens
from benchmarks.corpus_gen import PLACES, TOPICS
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
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=RESULTS.parent, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "python": sys.version.split()[0],
            "platform": platform.platform(), "commit": commit}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def embedded_texts(folder: Path, settings: Settings, every: int = 1) -> list[str]:
    """The texts ingest embeds for the articles in `folder` (every `every`-th one), in file order."""
    texts: list[str] = []
    for path in sorted(folder.glob("*.md"))[::every]:
        doc = load_file(path, folder)
        chunks = chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap, count_tokens)
        texts += [indexed_text(doc, c) for c in chunks]
    return texts


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


def questions(n: int, seed: int = 3) -> list[str]:
    """Questions in the style of the generated articles."""
    rng = random.Random(seed)
    forms = [
        "How much will the {thing} in {place} cost?",
        "Who rejected the claim that the {thing} favours {place}?",
        "How many signatures did residents of {place} collect against the {thing}?",
        "When was the {thing} first proposed?",
        "How long will construction of the {thing} take?",
        "Who asked for an independent review of the {thing}?",
    ]
    out = []
    for _ in range(n):
        topic = rng.choice(sorted(TOPICS))
        out.append(rng.choice(forms).format(thing=rng.choice(TOPICS[topic]), place=rng.choice(PLACES)))
    return out


def timed(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    """Milliseconds one call takes."""
    t = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t) * 1000


def summary(ms: list[float]) -> dict[str, float]:
    """p50 and p95 of latencies in ms."""
    return {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1)}
