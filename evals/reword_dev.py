"""Reword development questions with a local instruct model, as a reader who never saw the paragraph would ask them.

    nice -n 10 python -m evals.reword_dev --split tune --model qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \\
        --answerable 700 --unanswerable 460 --out evals/dev/reworded-tune.jsonl

SQuAD questions borrow the paragraph's words, so a refusal model fitted on them learns "few shared
words => unanswerable" and then refuses readers who use their own words. These rewordings (of
answerable and unanswerable questions alike, so neither side keeps the lexical cue) are training
data for evals/train_answerability.py (`tune` side) and a held-out check (`report` side).

The model runs in process through xllamacpp, one thread, seeded; the output file is appended to
and resumed (questions already there are skipped), so an interrupted run loses nothing. A
rewording is kept only if it is a question, differs from the original and keeps its numbers.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.lexical import fold, numbers  # noqa: E402
from assistant.local import Engine  # noqa: E402
from evals import dev_subset  # noqa: E402

SYSTEM = (
    "You reword questions. Rewrite the user's question so that it asks exactly the same thing, the way a "
    "curious reader who has not seen the source text would ask it: use other words for its nouns and verbs "
    "wherever a common synonym exists, and change the sentence structure. Keep every proper name and number. "
    "Do not answer it and do not add anything. Reply with the reworded question only."
)


def sample(split: str, answerable: int, unanswerable: int, seed: int) -> list[dict]:
    """A seeded sample of that side's questions: `answerable` answerable and `unanswerable` unanswerable ones."""
    rows = dev_subset.questions_of(split)
    rng = random.Random(seed)
    yes = [r for r in rows if r["answerable"]]
    no = [r for r in rows if not r["answerable"]]
    rng.shuffle(yes)
    rng.shuffle(no)
    yes, no = yes[:answerable], no[:unanswerable]
    # interleaved in proportion, so a run stopped early still holds both kinds
    return sorted(yes + no, key=lambda r: (yes.index(r) / len(yes) if r["answerable"] else no.index(r) / len(no)))


def acceptable(original: str, reworded: str) -> bool:
    """A single question, not the original, keeping the original's numbers."""
    if not reworded.endswith("?") or "\n" in reworded or len(reworded) > 2 * len(original) + 40:
        return False
    if " ".join(fold(reworded).split()) == " ".join(fold(original).split()):
        return False
    return set(numbers(original)) <= set(numbers(reworded))


def reword(engine: Engine, question: str, seed: int) -> str | None:
    """One rewording, or None when two tries give nothing acceptable."""
    for attempt in range(2):
        reply = engine.complete({
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
            "max_tokens": 64, "temperature": 0.7, "seed": seed + attempt,
        })
        text = re.sub(r"^(reworded|rewritten|question)\s*:\s*", "", reply["choices"][0]["message"]["content"].strip(),
                      flags=re.I).strip().strip('"“”')
        if acceptable(question, text):
            return text
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("tune", "report"), required=True)
    ap.add_argument("--model", type=Path, required=True, help="the GGUF instruct model to reword with")
    ap.add_argument("--answerable", type=int, default=700)
    ap.add_argument("--unanswerable", type=int, default=460)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="JSONL, appended to and resumed")
    args = ap.parse_args()
    done = set()
    if args.out.exists():
        done = {json.loads(line)["source_id"] for line in args.out.read_text(encoding="utf-8").splitlines() if line.strip()}
    todo = [r for r in sample(args.split, args.answerable, args.unanswerable, args.seed) if r["id"] not in done]
    engine = Engine.get(args.model, threads=args.threads, context=1024)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kept = 0
    t0 = time.time()
    with args.out.open("a", encoding="utf-8") as out:
        for n, row in enumerate(tqdm(todo, desc=f"rewording {args.split}", unit="q")):
            text = reword(engine, " ".join(row["question"].split()), args.seed + n)
            out.write(json.dumps({**row, "id": row["id"] + "-rw", "source_id": row["id"], "question": text,
                                  "original": row["question"], "style": "reworded-llm",
                                  "model": args.model.name}, ensure_ascii=False) + "\n")
            out.flush()
            kept += text is not None
    print(f"{kept}/{len(todo)} reworded in {time.time() - t0:.0f} s -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
