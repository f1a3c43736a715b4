"""Build a corpus + dataset from one side of the fixed squad-dev13 split, for `assistant eval`.

    python -m evals.dev_subset --split report --out /tmp/dev-report
    assistant eval --dataset /tmp/dev-report/dataset.jsonl --corpus /tmp/dev-report/articles --report /tmp/dev-report/out

`--split tune|report` picks the articles of evals/dev_split.json; the corpus holds only those articles'
paragraphs (copied), the dataset only their questions. `--sample N` keeps a seeded random sample of N
questions (same N and `--seed` give the same questions; the corpus stays whole). Tune only on `tune`;
report only on `report`.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPLIT = ROOT / "evals" / "dev_split.json"


def dev_root(split_file: Path = SPLIT) -> Path:
    """The squad-dev13 folder named by the split file.

    A relative path is tried against the repo root, then its parents (a git worktree sits deeper).
    """
    dataset = Path(json.loads(split_file.read_text(encoding="utf-8"))["dataset"])
    if dataset.is_absolute():
        return dataset.parent
    for base in (ROOT, *ROOT.parents):
        if (base / dataset).is_file():
            return (base / dataset).resolve().parent
    raise FileNotFoundError(f"{dataset} (from {split_file}) not found relative to {ROOT} or its parents")


def articles_of(split: str, split_file: Path = SPLIT) -> list[str]:
    """Article names on one side of the split."""
    data = json.loads(split_file.read_text(encoding="utf-8"))
    if split not in ("tune", "report"):
        raise ValueError(f"split must be 'tune' or 'report', not {split!r}")
    return list(data[split])


def questions_of(split: str, split_file: Path = SPLIT, root: Path | None = None) -> list[dict]:
    """Every squad-dev13 question whose article is on that side of the split, in file order."""
    wanted = set(articles_of(split, split_file))
    root = root or dev_root(split_file)
    rows = [json.loads(line) for line in (root / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["article"] in wanted]


def article_files(split: str, split_file: Path = SPLIT, root: Path | None = None) -> list[Path]:
    """The paragraph files of that side's articles (file names start with the article name, `_` for spaces)."""
    root = root or dev_root(split_file)
    prefixes = tuple(a.replace(" ", "_") + "-p" for a in articles_of(split, split_file))
    return sorted(p for p in (root / "articles").iterdir() if p.name.startswith(prefixes))


def build(split: str, out: Path, *, sample: int | None = None, seed: int = 13, split_file: Path = SPLIT,
          reworded: Path | None = None) -> tuple[Path, Path]:
    """Write out/articles/ and out/dataset.jsonl; returns (dataset, corpus).

    `reworded`: an evals/reword_dev.py file of that side's questions: the dataset holds its rewordings instead.
    """
    rows = questions_of(split, split_file)
    if reworded is not None:
        wanted = {r["article"] for r in rows}
        rows = [json.loads(line) for line in reworded.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [r for r in rows if r.get("question") and r["article"] in wanted]
    if sample is not None and sample < len(rows):
        keep = set(random.Random(seed).sample(range(len(rows)), sample))
        rows = [r for i, r in enumerate(rows) if i in keep]
    corpus = out / "articles"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    for f in article_files(split, split_file):
        shutil.copyfile(f, corpus / f.name)
    dataset = out / "dataset.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return dataset, corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["tune", "report"], required=True)
    ap.add_argument("--out", type=Path, required=True, help="folder to write articles/ and dataset.jsonl into")
    ap.add_argument("--sample", type=int, help="keep a seeded random sample of N questions")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--reworded", type=Path, help="evals/reword_dev.py output: ask its rewordings instead")
    args = ap.parse_args()
    dataset, corpus = build(args.split, args.out, sample=args.sample, seed=args.seed, reworded=args.reworded)
    n = sum(1 for _ in dataset.open(encoding="utf-8"))
    print(f"{n} questions -> {dataset}; {len(list(corpus.iterdir()))} articles -> {corpus}")
    print(f"assistant eval --dataset {dataset} --corpus {corpus} --report {args.out / 'out'}")


if __name__ == "__main__":
    main()
