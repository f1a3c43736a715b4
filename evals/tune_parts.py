"""How the offline answerer should treat the parts of a multi-part question, measured on the `tune` articles only.

    nice -n 10 python -m evals.tune_parts --work /var/tmp/parts        # ~2 min; writes benchmarks/results/parts.json

Two questions: which passages a part ranks (those found for the whole question, or also its own search),
and whether a part needs its own threshold. Two-part questions are built from
pairs of squad-dev13 questions on the same tune article ("Q1, and q2?": both answerable, or one of them
unanswerable), retrieved as a whole, and every part is ranked by the answerer's own code once; then each
threshold is scored: a part is handled right when it is answered with a sentence holding a gold answer,
or named as not covered when it is unanswerable. The held-out check is the golden and news multi-part questions
(`assistant eval`), never used here.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answerability import load  # noqa: E402
from assistant.extractive import own_first, part_query, rank, select  # noqa: E402
from assistant.features import candidates  # noqa: E402
from assistant.question import analyse, parts  # noqa: E402
from evals import dev_subset  # noqa: E402
from evals.train_answerability import norm  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "parts.json"
STARTS = ("what", "who", "when", "where", "which", "how", "why")


def pairs(rows: list[dict], n: int, seed: int) -> list[tuple[dict, dict]]:
    """n pairs of questions on the same article; the second starts with a wh-word so parts() can split them."""
    rng = random.Random(seed)
    by_article: dict[str, list[dict]] = {}
    for r in rows:
        by_article.setdefault(r["article"], []).append(r)
    out: list[tuple[dict, dict]] = []
    articles = sorted(by_article)
    while len(out) < n:
        qs = by_article[rng.choice(articles)]
        a, b = rng.sample(qs, 2)
        if not b["question"].strip().lower().startswith(STARTS) or not (a["answerable"] or b["answerable"]):
            continue
        out.append((a, b))
    return out


def joined(a: str, b: str) -> str:
    """ "What is X, and who did Y?" from two questions."""
    first = " ".join(a.split()).rstrip(" ?")
    second = " ".join(b.split())
    return f"{first}, and {second[0].lower()}{second[1:]}"


SEARCHES = ("whole", "own")  # the whole question's passages only; or the part's own search first (extractive.part_query)


def collect(n: int, seed: int, work: Path, how: str) -> list[dict]:
    """Every part of n two-part tune questions: its answerability probability, and whether its sentences hold a gold answer."""
    from assistant import Assistant, Settings

    dataset, corpus = dev_subset.build("tune", work / "tune")
    settings = Settings(data_dir=work / "data-tune", corpus_dir=corpus)
    bot = Assistant(settings)
    bot.ingest([corpus], show_progress=False)
    rows = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    models = load()
    out = []
    for a, b in pairs(rows, n, seed):
        question = joined(a["question"], b["question"])
        pieces = parts(question)
        if len(pieces) != 2:
            continue
        whole = bot.search(question)
        for piece, row in zip(pieces, (a, b)):
            passages = whole
            if how == "own":
                passages = own_first(bot.search(part_query(piece, question)), whole)
            cands = candidates(passages)
            r = rank(analyse(piece, question), passages, cands, bot.sentence_similarity, models)
            golds = [norm(g) for g in row.get("answers", []) if g.strip()]
            chosen = select(r, models)[:2] if r.scored else []
            right = bool(golds) and any(g in norm(c.text) for c in chosen for g in golds)
            out.append({"answerable": bool(row["answerable"]), "p": r.answerable, "right": right})
    return out


def score(parts_: list[dict], threshold: float) -> dict[str, float]:
    """Share of parts handled right at a threshold, and the answered/refused split."""
    ok = answered_right = refused_right = 0
    for p in parts_:
        answered = p["p"] >= threshold
        if answered and p["answerable"] and p["right"]:
            ok += 1
            answered_right += 1
        elif not answered and not p["answerable"]:
            ok += 1
            refused_right += 1
    n_ans = sum(p["answerable"] for p in parts_)
    return {"parts_right": round(ok / len(parts_), 4), "answerable_parts_answered_right": round(answered_right / n_ans, 4),
            "unanswerable_parts_named": round(refused_right / max(1, len(parts_) - n_ans), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=300, help="two-part questions to build")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--work", type=Path, help="keep the store here (a rerun skips the ingest)")
    args = ap.parse_args()
    models = load()
    figures: dict = {
        "what": "parts of multi-part questions (assistant/extractive.py), measured on tune only",
        "command": "nice -n 10 python -m evals.tune_parts", "questions": args.questions, "seed": args.seed,
        "whole_question_threshold": models.threshold,
    }
    with tempfile.TemporaryDirectory(prefix="tune-parts-") as tmp:
        for how in SEARCHES:
            found = collect(args.questions, args.seed, args.work or Path(tmp), how)
            grid = {round(float(t), 2): score(found, float(t)) for t in np.arange(0.2, 0.91, 0.02)}
            best = max(grid, key=lambda t: (grid[t]["parts_right"], t))
            figures[how] = {"parts": len(found), "at_whole_question_threshold": score(found, models.threshold),
                            "best_part_threshold": best, "at_best": grid[best], "grid": grid}
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "grid"} if isinstance(v, dict) else v)
                      for k, v in figures.items()}, indent=1))


if __name__ == "__main__":
    main()
