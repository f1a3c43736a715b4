"""Build the fixed development-set sample the CI gate runs: evals/dev/questions.jsonl + evals/dev/articles/.

    python -m evals.build_dev_sample [--out evals/dev]

Takes only the `report` articles of evals/dev_split.json (never the `tune` ones; helpers from
evals/dev_subset.py), copies every paragraph of those articles as the corpus, and draws a seeded sample of
SAMPLE_SIZE questions, stratified by article and answerability so it keeps the source's proportions. All
gold answers become alternatives of one required fact ("a|b|c"): a right answer contains any of the crowd
workers' answers. The output is committed, so CI (a fresh clone, maybe without ../shared) needs nothing
else; tests/test_evals.py checks that this builder reproduces it byte for byte when the source is present.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path
from typing import Any

from evals.dev_subset import article_files, questions_of

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "evals" / "dev"
SAMPLE_SIZE = 320
SEED = 20261129


def stratified_sample(rows: list[dict[str, Any]], size: int, seed: int) -> list[dict[str, Any]]:
    """A seeded sample of `size` rows, stratified by (article, answerable), in the source's order."""
    strata: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for r in rows:
        strata.setdefault((str(r["article"]), bool(r["answerable"])), []).append(r)
    quotas = {k: size * len(v) / len(rows) for k, v in sorted(strata.items())}
    counts = {k: int(q) for k, q in quotas.items()}
    for k in sorted(quotas, key=lambda k: (counts[k] - quotas[k], k))[: size - sum(counts.values())]:
        counts[k] += 1  # largest remainders first
    rng = random.Random(seed)
    chosen = {str(r["id"]) for k, v in sorted(strata.items()) for r in rng.sample(v, counts[k])}
    return [r for r in rows if str(r["id"]) in chosen]


def to_case(row: dict[str, Any]) -> dict[str, Any]:
    """A dataset line whose one required fact has every gold answer as an alternative."""
    answers = [str(a) for a in row.get("answers", [])]
    return {"id": row["id"], "question": row["question"], "answers": answers,
            "facts": ["|".join(dict.fromkeys(answers))] if answers else [],
            "gold_docs": list(row.get("gold_docs", [])), "answerable": bool(row["answerable"]), "article": row["article"]}


def build(out: Path = OUT, size: int = SAMPLE_SIZE, seed: int = SEED) -> tuple[int, int]:
    """Write out/questions.jsonl and out/articles/; returns (questions, articles)."""
    cases = [to_case(r) for r in stratified_sample(questions_of("report"), size, seed)]
    files = article_files("report")
    names = {p.name for p in files}
    for c in cases:
        assert set(c["gold_docs"]) <= names, c["id"]
    articles = out / "articles"
    if articles.exists():
        shutil.rmtree(articles)
    articles.mkdir(parents=True)
    for p in files:
        shutil.copyfile(p, articles / p.name)
    (out / "questions.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    return len(cases), len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for questions.jsonl and articles/")
    args = parser.parse_args()
    n, m = build(args.out)
    print(f"wrote {n} questions and {m} articles to {args.out}")


if __name__ == "__main__":
    main()
