"""The LLM judge (ASSISTANT_JUDGE=llm, local model) on the reported pairs, against the offline judge.

    nice -n 10 python -m benchmarks.bench_llm_judge --batch 3 [--split tune --sample 90 --out NAME]

Pairs (`--split report`, the default): the `report` split of evals/judge_pairs_v2.jsonl and the `holdout` split of
the hand-written news pairs evals/judge_pairs.jsonl (never tuned on); `--split tune`: their `tune` and `dev` splits,
on which a judge prompt may be chosen. They are judged in batches of `--batch` claims per call, as the verifier
batches an answer's sentences, with the same prompt and schema. The model's verdict for each pair is kept in
benchmarks/results/OUT_verdicts.jsonl (default llm_judge_verdicts.jsonl), so `--reuse` recomputes every figure.
Reported for "supported" as the positive class, on the same pairs:
- `llm`: the model alone (the offline judge where its reply is unusable, as the verifier does);
- `llm_with_specific_floor`: the model, overruled where the offline judge finds a specific error (a number or name
  the passage lacks, an opposite, swapped roles or numbers); the model may accept low-coverage sentences;
- `llm_with_offline_floor`: the model may only reject more: accepted only when the offline judge accepts too
  (what the verifier applies, and what ASSISTANT_JUDGE=auto runs with an LLM backend);
- `offline`: the offline judge alone.
Per kind, the share judged right. Writes benchmarks/results/llm_judge.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, write

EVALS = Path(__file__).resolve().parent.parent / "evals"


SPLITS = {"report": (("judge_pairs_v2.jsonl", "report"), ("judge_pairs.jsonl", "holdout")),
          "tune": (("judge_pairs_v2.jsonl", "tune"), ("judge_pairs.jsonl", "dev"))}


def reported_pairs(which: str = "report") -> list[dict[str, Any]]:
    """The pairs of `which` (report: v2 report + news holdout; tune: v2 tune + news dev), with a `set` and `label`."""
    out: list[dict[str, Any]] = []
    for name, split in SPLITS[which]:
        for line in (EVALS / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                p = json.loads(line)
                if p["split"] == split:
                    label = p["supported"] if "supported" in p else p["label"]
                    out.append({**p, "set": name, "label": bool(label), "key": f"{name}:{p['id']}"})
    return out


def specific_error(sentence: str, passage: str) -> bool:
    """The floor the verifier applied before: only the offline judge's specific errors overrule the model.

    A number or name the passage lacks, a misplaced one, swapped roles or numbers, an opposite, a flipped negation;
    the model could accept what the offline judge rejects for low word coverage (a paraphrase, or an added claim).
    """
    from assistant.judge import judge
    from assistant.lexical import capitalized_names, fold, numbers

    if numbers(sentence) - numbers(passage):
        return True
    folded = fold(passage)
    if any(name not in folded for name in capitalized_names(sentence)):
        return True
    v = judge(sentence, passage)
    return bool(v.missing_numbers or v.missing_names or v.antonyms or v.role_swaps or v.number_swaps
                or v.misplaced or v.negation_mismatch)


def scores(labels: list[bool], said: list[bool]) -> dict[str, Any]:
    """Precision, recall and accuracy with "supported" as the positive class."""
    tp = sum(1 for y, p in zip(labels, said) if y and p)
    fp = sum(1 for y, p in zip(labels, said) if not y and p)
    fn = sum(1 for y, p in zip(labels, said) if y and not p)
    return {"n": len(labels), "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
            "accuracy": round(sum(1 for y, p in zip(labels, said) if y == p) / len(labels), 3) if labels else 0.0}


def run_model(pairs: list[dict[str, Any]], batch: int, seed: int, verdicts_file: Path) -> dict[str, Any]:
    """Judge every pair with the local model in batches; append each batch's verdicts to `verdicts_file`."""
    from assistant.judge import supports
    from assistant.llm_judge import judge_format, judge_messages, judge_tokens, parse_verdicts
    from assistant.local import Engine, model_path
    from assistant.settings import Settings

    settings = Settings.from_env(llm="local")
    t0 = time.perf_counter()
    engine = Engine.get(model_path(settings), threads=settings.local_threads, context=settings.local_context)
    load = time.perf_counter() - t0
    order = pairs[:]
    random.Random(seed).shuffle(order)
    verdicts_file.parent.mkdir(parents=True, exist_ok=True)
    with verdicts_file.open("w", encoding="utf-8") as out:
        for i in range(0, len(order), batch):
            group = order[i:i + batch]
            claims = [(p["sentence"], [p["passage"]]) for p in group]
            t = time.perf_counter()
            r = engine.complete({"messages": judge_messages(claims), "response_format": judge_format(len(claims)),
                                 "max_tokens": judge_tokens(len(claims)), "temperature": 0})
            seconds = time.perf_counter() - t
            verdicts = parse_verdicts(r["choices"][0]["message"]["content"] or "", len(claims))
            usable = verdicts is not None
            if verdicts is None:  # what the verifier does then
                verdicts = [supports(s, ps[0]) for s, ps in claims]
            for p, v in zip(group, verdicts):
                out.write(json.dumps({"key": p["key"], "llm": v, "usable": usable, "call": i // batch,
                                      "seconds": round(seconds, 2), "claims": len(group)}) + "\n")
            out.flush()
            print(f"{i + len(group)}/{len(order)} {seconds:.1f}s", flush=True)
    return {"model": model_path(settings).name, "threads": settings.local_threads, "load_seconds": round(load, 1)}


def figures(pairs: list[dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every judge combination's precision/recall, overall, per pair set and per kind."""
    from assistant.judge import supports

    pairs = [p for p in pairs if p["key"] in rows]
    llm = [bool(rows[p["key"]]["llm"]) for p in pairs]
    offline = [supports(p["sentence"], p["passage"]) for p in pairs]
    specific = [v and not specific_error(p["sentence"], p["passage"]) for v, p in zip(llm, pairs)]
    judges = {"llm": llm, "llm_with_specific_floor": specific,
              "llm_with_offline_floor": [a and b for a, b in zip(llm, offline)], "offline": offline}

    def block(select: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        ix = [k for k, p in enumerate(pairs) if select(p)]
        labels = [pairs[k]["label"] for k in ix]
        return {name: scores(labels, [said[k] for k in ix]) for name, said in judges.items()}

    kinds: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(pairs):
        kinds[f"{p['set'].removesuffix('.jsonl')}:{p['kind']}"].append(k)
    per_kind = {kind: {"n": len(ix), "supported": pairs[ix[0]]["label"],
                       **{name: round(sum(1 for k in ix if said[k] == pairs[k]["label"]) / len(ix), 3)
                          for name, said in judges.items()}}
                for kind, ix in sorted(kinds.items())}
    per_kind_pr: dict[str, dict[str, Any]] = {}  # an error kind with every supported pair of its set (as evals.judge_report)
    for kind, ix in sorted(kinds.items()):
        if pairs[ix[0]]["label"]:
            continue
        subset = ix + [k for k, p in enumerate(pairs) if p["label"] and p["set"] == pairs[ix[0]]["set"]]
        per_kind_pr[kind] = {name: {m: v for m, v in scores([pairs[k]["label"] for k in subset],
                                                             [said[k] for k in subset]).items() if m != "accuracy"}
                             for name, said in judges.items()}
    calls: dict[int, dict[str, Any]] = {}
    for r in rows.values():
        calls[r["call"]] = r
    seconds = [c["seconds"] for c in calls.values()]
    return {
        "all": block(lambda p: True),
        "judge_pairs_v2": block(lambda p: p["set"] == "judge_pairs_v2.jsonl"),
        "news_by_hand": block(lambda p: p["set"] == "judge_pairs.jsonl"),
        "per_kind_share_right": per_kind,
        "per_error_kind_with_all_supported": per_kind_pr,
        "calls": len(calls), "unusable_replies": sum(1 for c in calls.values() if not c["usable"]),
        "seconds_per_answer": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "seconds_per_answer_max": max(seconds) if seconds else None,
        "seconds_per_claim": round(sum(seconds) / len(pairs), 2) if pairs else None,
    }


def main() -> None:
    """Run the model on the pairs (or reuse its verdicts) and write the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=0, help="judge only this many pairs (0: all)")
    parser.add_argument("--batch", type=int, default=3, help="claims per call, like the sentences of one answer")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--reuse", action="store_true", help="recompute the figures from the stored verdicts")
    parser.add_argument("--split", choices=sorted(SPLITS), default="report",
                        help="report: the pairs only reported on; tune: the pairs a judge prompt may be chosen on")
    parser.add_argument("--out", default="llm_judge",
                        help="results name: benchmarks/results/OUT.json, verdicts in OUT_verdicts.jsonl")
    args = parser.parse_args()

    pairs = reported_pairs(args.split)
    if args.sample:
        pairs = random.Random(args.seed).sample(pairs, min(args.sample, len(pairs)))
    verdicts_file = RESULTS / f"{args.out}_verdicts.jsonl"
    previous = json.loads((RESULTS / f"{args.out}.json").read_text()) if (RESULTS / f"{args.out}.json").exists() else {}
    meta = {k: previous.get(k) for k in ("model", "threads", "load_seconds")} if args.reuse else run_model(
        pairs, args.batch, args.seed, verdicts_file)
    rows = {r["key"]: r for r in map(json.loads, verdicts_file.read_text(encoding="utf-8").splitlines()) if r}
    write(args.out, {
        "command": f"nice -n 10 python -m benchmarks.bench_llm_judge --batch {args.batch} --split {args.split}"
                   f"{f' --sample {args.sample}' if args.sample else ''} --out {args.out} (figures: --reuse)",
        "pairs": SPLITS[args.split],
        "seed": args.seed, "batch": args.batch, **meta,
        "positive_class": "supported; precision = share of accepted sentences that are supported",
        "load_average_at_write": [round(x, 1) for x in os.getloadavg()],
        **figures(pairs, rows),
    })


if __name__ == "__main__":
    main()
