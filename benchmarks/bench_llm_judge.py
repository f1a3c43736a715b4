"""The LLM judge (ASSISTANT_JUDGE=llm, local model) on the `report` split of evals/judge_pairs_v2.jsonl.

    python -m benchmarks.bench_llm_judge --sample 120 --batch 3

Pairs are judged in batches of `--batch` claims per call, as the verifier batches an answer's sentences, with
the same prompt and schema. Reported for "supported" as the positive class: the LLM alone, the LLM with the
offline floor (what the verifier applies), and the offline judge alone on the same pairs; per kind, the share
judged right. Writes benchmarks/results/llm_judge.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import write

PAIRS = Path(__file__).resolve().parent.parent / "evals" / "judge_pairs_v2.jsonl"


def scores(labels: list[bool], said: list[bool]) -> dict[str, float]:
    tp = sum(1 for y, p in zip(labels, said) if y and p)
    fp = sum(1 for y, p in zip(labels, said) if not y and p)
    fn = sum(1 for y, p in zip(labels, said) if y and not p)
    return {"precision": round(tp / (tp + fp), 3) if tp + fp else 0.0, "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
            "accuracy": round(sum(1 for y, p in zip(labels, said) if y == p) / len(labels), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=120)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    from assistant.judge import supports
    from assistant.llm_judge import floor_rejects, judge_format, judge_messages, parse_verdicts
    from assistant.local import Engine, model_path
    from assistant.settings import Settings

    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [p for p in pairs if p["split"] == "report"]
    pairs = random.Random(args.seed).sample(pairs, min(args.sample, len(pairs)))
    settings = Settings.from_env(llm="local")
    engine = Engine.get(model_path(settings), threads=settings.local_threads, context=settings.local_context)
    llm: list[bool] = []
    seconds: list[float] = []
    unusable = 0
    for i in range(0, len(pairs), args.batch):
        batch = pairs[i:i + args.batch]
        claims = [(p["sentence"], [p["passage"]]) for p in batch]
        t0 = time.perf_counter()
        r = engine.complete({"messages": judge_messages(claims), "response_format": judge_format(len(claims)),
                             "max_tokens": 40 * len(claims) + 20, "temperature": 0})
        seconds.append(time.perf_counter() - t0)
        verdicts = parse_verdicts(r["choices"][0]["message"]["content"] or "", len(claims))
        if verdicts is None:
            unusable += 1
            verdicts = [supports(s, ps[0]) for s, ps in claims]  # what the verifier does then
        llm.extend(verdicts)
        print(f"{i + len(batch)}/{len(pairs)} {seconds[-1]:.1f}s", flush=True)
    labels = [bool(p["supported"]) for p in pairs]
    floor = [v and not floor_rejects(p["sentence"], p["passage"]) for v, p in zip(llm, pairs)]
    offline = [supports(p["sentence"], p["passage"]) for p in pairs]
    kinds: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(pairs):
        kinds[p["kind"]].append(k)
    per_kind = {kind: {"n": len(ix), **{name: round(sum(1 for k in ix if said[k] == labels[k]) / len(ix), 3)
                                       for name, said in (("llm", llm), ("llm_with_floor", floor), ("offline", offline))}}
                for kind, ix in sorted(kinds.items())}
    write("llm_judge", {
        "pairs": "evals/judge_pairs_v2.jsonl (report split)", "sample": len(pairs), "seed": args.seed,
        "batch": args.batch, "model": model_path(settings).name, "threads": settings.local_threads,
        "llm": scores(labels, llm), "llm_with_floor": scores(labels, floor), "offline": scores(labels, offline),
        "per_kind_share_right": per_kind, "unusable_replies": unusable,
        "seconds_per_call": round(sum(seconds) / len(seconds), 2), "seconds_per_claim": round(sum(seconds) / len(pairs), 2),
    })


if __name__ == "__main__":
    main()
