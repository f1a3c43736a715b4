"""Paired A/B of offline answer() latency: code trees side by side on one store, each question to each in turn.

    git archive ce87588 | tar -x -C /var/tmp/before                  # the code to compare against
    nice -n 10 python benchmarks/bench_answer_ab.py --work /var/tmp/b10k --questions 60 \\
        --variant before=/var/tmp/before --variant after=. --variant after-2-threads=.:2

`--work` is a store built by bench_scale.py (`--work W`). Every variant is a long-lived process holding
the store open (warmed on 5 questions); each unseen question goes to every variant in a rotating
order, so the load swings of the shared machine hit them alike. `PATH:N` runs that tree with
LocalEmbeddings(small_threads=N). Writes benchmarks/results/answer_ab.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def worker(work: Path) -> None:
    """Answer questions read from stdin, one per line; print the milliseconds each took."""
    from assistant import Assistant, Settings
    from assistant.embed import LocalEmbeddings
    from benchmarks.common import questions

    small = os.environ.get("AB_SMALL_THREADS")
    embedder = LocalEmbeddings(small_threads=int(small)) if small else LocalEmbeddings()  # type: ignore[call-arg]
    bot = Assistant(Settings(data_dir=work / "data", corpus_dir=work / "articles"), embedder=embedder)
    bot.retriever.sync()
    for q in questions(5, seed=20):
        bot.answer(q)
    print("ready", flush=True)
    for line in sys.stdin:
        t = time.perf_counter()
        bot.answer(line.strip())
        print(round((time.perf_counter() - t) * 1000, 2), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--seed", type=int, default=72)
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=PATH[:SMALL_THREADS]")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.work)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.common import percentile, questions, write

    procs: dict[str, subprocess.Popen[str]] = {}
    for spec in args.variant:
        name, _, where = spec.partition("=")
        tree, _, small = where.partition(":")
        root = str(Path(tree).resolve())
        env = {**os.environ, "PYTHONPATH": root, "ORT_DISABLE_TELEMETRY": "1"}
        if small:
            env["AB_SMALL_THREADS"] = small
        procs[name] = subprocess.Popen(
            [sys.executable, "-P", str(Path(__file__).resolve()), "--worker", "--work", str(args.work), "--variant", spec],
            env=env, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    names = list(procs)
    ms: dict[str, list[float]] = {k: [] for k in names}
    loads = [os.getloadavg()[0]]
    for i, q in enumerate(questions(args.questions, seed=args.seed)):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            proc = procs[name]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(q + "\n")
            proc.stdin.flush()
            ms[name].append(float(proc.stdout.readline()))
        loads.append(os.getloadavg()[0])
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    out = {k: {"p50_ms": round(percentile(v, 50), 1), "p95_ms": round(percentile(v, 95), 1)} for k, v in ms.items()}
    write("answer_ab", {"store": str(args.work), "questions": args.questions, "seed": args.seed, "variants": args.variant,
                        "load_1min_min_max": [round(min(loads), 1), round(max(loads), 1)], "answer": out})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
