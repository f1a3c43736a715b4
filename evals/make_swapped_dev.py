"""Build an answer-swapped copy of squad-dev13 paragraphs, for conflict detection (issue 14), deterministically.

    python -m evals.make_swapped_dev --out DIR [--split report] [--squad DIR] [--seed 13]

For every paragraph of the split's articles (evals/dev_split.json; `report` by default) that has a question whose
answer can be swapped, one such question is chosen (seeded) and the paragraph is copied with every occurrence of
that answer replaced by another answer of the same article and the same kind (same wh-word and shape, as in
evals/make_judge_pairs.py: a year for a year, a person for a person, a number for a number), under another outlet's
name (front matter `source:`). Writes:

- DIR/articles/: every paragraph of the split's articles unchanged, plus one swapped copy per chosen paragraph,
  named `<paragraph>-<outlet>.md`;
- DIR/questions.jsonl: one line per swapped paragraph, in the `assistant eval --dataset` format (`id`, `question`,
  `answers` = the original gold answers, `gold_docs` = [original], `answerable`) plus `docs` = [original, copy],
  `values` = [original answer, swapped answer], `disagree` = true, `swapped_answer` and `article`.

An answer that gives only the swapped value is wrong; one that reports both, each cited, is what issue 14 asks.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from evals.make_judge_pairs import DEFAULT_SQUAD, SPLIT, TYPED_WH, answer_key, body

OUTLETS = [
    "The Daily Meridian",
    "Capital Wire Service",
    "Lakeshore Tribune",
    "The Evening Ledger",
    "Valley Sentinel",
    "Metro Daily",
    "Eastern Standard",
    "Northern Wire",
]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _replace_all(text: str, old: str, new: str) -> str:
    return re.sub(rf"(?<![\w]){re.escape(old)}(?![\w])", lambda _: new, text)


def _front_matter(text: str) -> dict[str, str]:
    head = text.split("---", 2)[1] if text.startswith("---") else ""
    out = {}
    for line in head.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            out[key.strip()] = value.strip().strip('"')
    return out


def build(squad: Path, out: Path, split_name: str, seed: int) -> list[dict[str, object]]:
    """Write the articles folder under `out` and return the question lines."""
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    articles = set(split[split_name])
    rows = [json.loads(line) for line in (squad / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["article"] in articles and r.get("answerable") and r.get("gold_docs")]
    by_doc: dict[str, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
    pool: dict[tuple[str, tuple[str, str]], set[str]] = defaultdict(set)
    for r in rows:
        by_doc[r["gold_docs"][0]].append(r)
        for a in r["answers"][:1]:
            pool[(r["article"], answer_key(r["question"], a))].add(a)
    dest = out / "articles"
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    lines: list[dict[str, object]] = []
    for path in sorted((squad / "articles").glob("*.md")):
        raw = path.read_text(encoding="utf-8")
        meta = _front_matter(raw)
        title = meta.get("title", path.stem)
        if not any(title.startswith(a + " (") or title == a for a in articles):
            continue
        (dest / path.name).write_text(raw, encoding="utf-8")
        text = body(path)
        candidates = []
        for r in by_doc.get(path.name, []):
            answer = next((a for a in r["answers"] if len(a) >= 2 and re.search(rf"(?<![\w]){re.escape(a)}(?![\w])", text)), None)
            if answer is None:
                continue
            wh, shape = key = answer_key(r["question"], answer)
            if shape == "phrase" or (wh not in TYPED_WH and shape == "name"):
                continue  # "what" names and free phrases mix kinds of thing (a sport for a religion)
            words = set(answer.lower().split())
            reps = sorted(
                a
                for a in pool[(r["article"], key)]
                if a != answer and a not in text and not words & set(a.lower().split()) and a not in r["answers"]
            )
            if reps:
                candidates.append((r, answer, reps))
        if not candidates:
            continue
        r, answer, reps = rng.choice(candidates)
        new = rng.choice(reps)
        outlet = OUTLETS[rng.randrange(len(OUTLETS))]
        copy = f"{path.stem}-{_slug(outlet)}.md"
        url = f"https://{_slug(outlet)}.example/{_slug(title)}"
        (dest / copy).write_text(
            f'---\ntitle: "{title}"\nsource: {outlet}\nurl: {url}\n---\n\n{_replace_all(text, answer, new)}\n', encoding="utf-8"
        )
        lines.append(
            {
                "id": f"swap-{r['id']}",
                "question": r["question"],
                "answers": r["answers"],
                "gold_docs": [path.name],
                "answerable": True,
                "docs": [path.name, copy],
                "values": [answer, new],
                "disagree": True,
                "swapped_answer": new,
                "article": r["article"],
            }
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Write DIR/articles/ and DIR/questions.jsonl."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--split", choices=["tune", "report"], default="report")
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    lines = build(args.squad, args.out, args.split, args.seed)
    (args.out / "questions.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    n_articles = len(list((args.out / "articles").glob("*.md")))
    sys.stdout.write(f"{args.out}: {n_articles} articles ({len(lines)} swapped copies), {len(lines)} questions\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
