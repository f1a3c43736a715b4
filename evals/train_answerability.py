"""Fit the offline answerer's models on the `tune` articles of squad-dev13; report them on `report` articles.

    nice -n 10 python -m evals.train_answerability            # ~5 min on 2 cores; writes the two files below

Writes assistant/data/answerability.json (the shipped coefficients, threshold and settings) and
benchmarks/results/answerability.json (held-out figures, sha256 of the model file, the split).
Each side is ingested into its own temporary store and every question goes through the real
retriever (same top_k as answer()) and the same feature code as answer(). Deterministic for a seed.
Only the `tune` articles are ever used to fit or choose anything; `report` articles are scored once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answerability import MODEL_FILE, Logistic, auroc, fit  # noqa: E402
from assistant.chunk import split_sentences  # noqa: E402
from assistant.extractive import embed_order, embedded_rows, score  # noqa: E402
from assistant.features import (  # noqa: E402
    CE_FEATURES,
    DENSE_FEATURES,
    QUESTION_CE_FEATURES,
    QUESTION_COLUMNS,
    QUESTION_FEATURES,
    SENTENCE_COLUMNS,
    SENTENCE_FEATURES,
    Candidate,
    candidates,
    cheap_rows,
)
from assistant.lexical import fold  # noqa: E402
from assistant.question import Question, analyse  # noqa: E402
from assistant.types import Passage  # noqa: E402
from evals import dev_subset  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "answerability.json"
EMBED_TOP = 10
L2 = 1.0
REWORD_DROP = 0.5


@dataclass
class Item:
    """One question with its retrieved passages, candidate features and labels."""

    qid: str
    article: str
    answerable: bool
    q: Question
    passages: list[Passage]
    cands: list[Candidate]
    rows: list[list[float]]
    sims: dict[str, float]
    labels: list[int]
    augmented: bool = False
    ces: dict[str, float] | None = None  # cross-encoder logits by sentence text (out-of-fold for tune questions)

    def similarity(self, question: str, texts: object) -> list[float]:
        """The cached question-sentence similarities, as the answerer's `similarity` callable."""
        del question
        return [self.sims[t] for t in texts]  # type: ignore[attr-defined]

    def scorer(self, question: str, texts: object) -> list[float]:
        """The cached cross-encoder logits, as the answerer's `scorer` callable."""
        del question
        assert self.ces is not None
        return [self.ces[t] for t in texts]  # type: ignore[attr-defined]


def norm(text: str) -> str:
    """Folded text with single spaces: how a gold answer is looked for in a sentence."""
    return " ".join(fold(text).split())


@dataclass
class Raw:
    """What retrieval gave for one question (features are recomputed from it, so feature code can change)."""

    qid: str
    article: str
    answerable: bool
    question: str
    answers: list[str]
    passages: list[Passage]
    sims: dict[str, float]
    reworded: bool = False  # a model's rewording of a development question (evals/reword_dev.py)


def reworded_rows(path: Path | None) -> list[dict]:
    """The usable rewordings in an evals/reword_dev.py file (rows whose rewording was kept)."""
    if path is None:
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("question")]


def collect(split: str, work: Path, extra: list[dict] | None = None) -> list[Raw]:
    """Ingest one side of the split into a fresh store; retrieve for every question and embed its sentences.

    `extra`: rewordings of that side's questions (same articles), retrieved from the same store.
    """
    from assistant import Assistant, Settings

    dataset, corpus = dev_subset.build(split, work / split)
    settings = Settings(data_dir=work / f"data-{split}", corpus_dir=corpus)
    bot = Assistant(settings)
    bot.ingest([corpus], show_progress=False)
    out = []
    rows = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    wanted = {r["article"] for r in rows}
    rows += [{**r, "reworded": True} for r in extra or [] if r["article"] in wanted]
    for n, row in enumerate(rows):
        question = " ".join(row["question"].split())
        passages = bot.retriever.search(question, settings.top_k)
        texts = sorted({p.text[s:e] for p in passages for s, e in split_sentences(p.text)}
                       | {c.text for c in candidates(passages)})
        sims = dict(zip(texts, bot.sentence_similarity(question, texts))) if texts else {}
        out.append(Raw(row["id"], row["article"], bool(row["answerable"]), question, list(row.get("answers", [])),
                       passages, sims, bool(row.get("reworded"))))
        if n % 500 == 0:
            print(f"{split}: {n}/{len(rows)} questions", file=sys.stderr)
    return out


def featurize(raw: Raw, reword: random.Random | None = None, ces: dict[str, float] | None = None) -> Item:
    """Candidates, features and labels of one question, with the answerer's own feature code.

    With `reword`, a simulated rewording: each question term the passages contain is dropped with
    probability REWORD_DROP (a reader using other words for it), so the models cannot lean on
    lexical overlap alone. Applied alike to answerable and unanswerable questions.
    """
    q = analyse(raw.question)
    cands = candidates(raw.passages)
    if reword is not None:
        present = set().union(*(c.terms for c in cands)) if cands else set()
        kept = tuple(t for t in q.terms if t not in present or reword.random() >= REWORD_DROP)
        q = replace(q, terms=kept or q.terms[:1])
    feats = cheap_rows(q, cands)
    golds = [norm(a) for a in raw.answers if a.strip()] if raw.answerable else []
    labels = [int(any(g in norm(c.text) for g in golds)) for c in cands]
    return Item(raw.qid + ("#reworded" if reword else ""), raw.article, raw.answerable, q, raw.passages, cands, feats,
                raw.sims, labels, reword is not None, ces)


def stage1_order(model: Logistic, item: Item, top: int) -> list[int]:
    """Candidate indices the answerer would embed (stage-1 best first): extractive.embed_order itself."""
    return embed_order(item.q, item.cands, model, top, item.rows)[0] if item.cands else []


def dense_rows(s1: Logistic, item: Item, top: int) -> tuple[list[int], list[list[float]]]:
    """(indices, sentence rows) of the candidates the sentence model scores, from extractive.embedded_rows itself."""
    if not item.cands:
        return [], []
    order, full, _, _ = embedded_rows(item.q, item.cands, s1, top, item.similarity,
                                      item.scorer if item.ces is not None else None, item.rows)
    return order, full


def ranked(stage1: Logistic, sentence: Logistic, item: Item, top: int) -> tuple[list[int], list[float], list[float]]:
    """(candidate indices best first, their probabilities, the question row), from extractive.score itself."""
    scorer = item.scorer if item.ces is not None else None
    scored, qrow = score(item.q, item.passages, item.cands, item.similarity, scorer, stage1, sentence, top, item.rows)
    at = {id(c): i for i, c in enumerate(item.cands)}
    return [at[id(s.cand)] for s in scored], [s.prob for s in scored], qrow


def sentence_names(items: list[Item]) -> tuple[str, ...]:
    """The sentence model's features: with the cross-encoder's logit when the items carry it."""
    return (*SENTENCE_FEATURES, *DENSE_FEATURES, *(CE_FEATURES if items and items[0].ces is not None else ()))


def question_names(items: list[Item]) -> tuple[str, ...]:
    """The question model's features: with the cross-encoder's summary when the items carry it."""
    return (*QUESTION_FEATURES, *(QUESTION_CE_FEATURES if items and items[0].ces is not None else ()))


def fit_stage_models(items: list[Item], top: int) -> tuple[Logistic, Logistic]:
    """Stage-1 (cheap features, every candidate) and sentence (the embedded candidates) models."""
    s1 = fit(SENTENCE_FEATURES, [r for it in items for r in it.rows], [y for it in items for y in it.labels], L2)
    names = sentence_names(items)
    at = [SENTENCE_COLUMNS.index(n) for n in names]
    srows, slabels = [], []
    for it in items:
        order, full = dense_rows(s1, it, top)
        srows += [[r[i] for i in at] for r in full]
        slabels += [it.labels[i] for i in order]
    return s1, fit(names, srows, slabels, L2)


def fit_models(items: list[Item], top: int) -> tuple[Logistic, Logistic, Logistic]:
    """Stage-1, sentence and question models fitted on `items` (question model on cross-fitted sentence probabilities)."""
    s1, sent = fit_stage_models(items, top)
    return s1, sent, fit_question(items, top)


def fit_question(items: list[Item], top: int, folds: int = 3, seed: int = 13) -> Logistic:
    """The question model, fitted on question rows computed with out-of-fold sentence models (grouped by article)."""
    qrows, qlabels = out_of_fold_rows(items, top, folds, seed)
    names = question_names(items)
    at = [QUESTION_COLUMNS.index(n) for n in names]
    return fit(names, [[r[i] for i in at] for r in qrows], qlabels, L2)


def article_folds(items: list[Item], folds: int, seed: int) -> list[set[str]]:
    """Articles shuffled with the seed and dealt into folds."""
    arts = sorted({it.article for it in items})
    random.Random(seed).shuffle(arts)
    return [set(arts[i::folds]) for i in range(folds)]


def out_of_fold_rows(items: list[Item], top: int, folds: int, seed: int) -> tuple[list[list[float]], list[int]]:
    """Question rows of every item from stage-1/sentence models that never saw its article."""
    rows: dict[str, list[float]] = {}
    for held in article_folds(items, folds, seed):
        s1, sent = fit_stage_models([it for it in items if it.article not in held], top)
        for it in items:
            if it.article in held:
                rows[it.qid] = ranked(s1, sent, it, top)[2]
    return [rows[it.qid] for it in items], [int(it.answerable) for it in items]


def outcomes(probs: list[float], items: list[Item], firsts: list[bool], threshold: float) -> dict[str, float]:
    """Approximate eval figures at a threshold: a right answer = the best sentence holds a gold answer."""
    right_ans = right_ref = refused = ref_unans = 0
    n_ans = sum(it.answerable for it in items)
    n_unans = len(items) - n_ans
    for p, it, first in zip(probs, items, firsts):
        refuse = p < threshold
        refused += refuse
        if refuse and not it.answerable:
            right_ref += 1
            ref_unans += 1
        elif not refuse and it.answerable and first:
            right_ans += 1
    return {
        "right_answers_plus_right_refusals": round((right_ans + right_ref) / len(items), 4),
        "answer_accuracy_top1": round(right_ans / max(1, n_ans), 4),
        "refusal_precision": round(ref_unans / refused, 4) if refused else float("nan"),
        "refusal_recall": round(ref_unans / max(1, n_unans), 4),
    }


def choose_threshold(items: list[Item], top: int, folds: int, seed: int) -> tuple[float, dict[str, float]]:
    """Threshold maximising right answers + right refusals on tune, from fully cross-fitted question probabilities."""
    probs: dict[str, float] = {}
    firsts: dict[str, bool] = {}
    for held in article_folds(items, folds, seed + 1):
        train = [it for it in items if it.article not in held]
        s1, sent, qm = fit_models(train, top)
        for it in items:
            if it.article in held:
                idx, _, qrow = ranked(s1, sent, it, top)
                probs[it.qid] = float(qm.predict_columns(QUESTION_COLUMNS, [qrow])[0])
                firsts[it.qid] = bool(idx) and bool(it.labels[idx[0]])
    items = [it for it in items if not it.augmented]  # the threshold is chosen on the questions as written
    p = [probs[it.qid] for it in items]
    f = [firsts[it.qid] for it in items]
    best_t, best = 0.5, -1.0
    for t in np.arange(0.2, 0.9, 0.01):
        o = outcomes(p, items, f, float(t))
        prec = o["refusal_precision"]
        if prec == prec and prec < 0.6:  # keep refusal precision >= 0.6 on tune
            continue
        if o["right_answers_plus_right_refusals"] > best:
            best_t, best = float(round(t, 2)), o["right_answers_plus_right_refusals"]
    out: dict = outcomes(p, items, f, best_t)
    out["auroc_answerable"] = round(auroc(p, [int(it.answerable) for it in items]), 4)
    rw = [i for i, it in enumerate(items) if it.qid.endswith("-rw")]
    if rw:  # the same threshold on the model's rewordings alone
        out["reworded_only"] = outcomes([p[i] for i in rw], [items[i] for i in rw], [f[i] for i in rw], best_t)
    return best_t, out


def held_out(s1: Logistic, sent: Logistic, qm: Logistic, items: list[Item], top: int, threshold: float) -> dict:
    """Figures of the final models on held-out items, scored once."""
    probs, firsts, recall_at = [], [], []
    for it in items:
        idx, _, qrow = ranked(s1, sent, it, top)
        probs.append(float(qm.predict_columns(QUESTION_COLUMNS, [qrow])[0]))
        firsts.append(bool(idx) and bool(it.labels[idx[0]]))
        if it.answerable and any(it.labels):
            recall_at.append(any(it.labels[i] for i in stage1_order(s1, it, top)))
    held: dict = {"questions": len(items), **outcomes(probs, items, firsts, threshold)}
    held["auroc_answerable"] = round(auroc(probs, [int(it.answerable) for it in items]), 4)
    held["stage1_recall_at_embed_top"] = round(sum(recall_at) / max(1, len(recall_at)), 4)
    held["gold_sentence_retrieved"] = round(
        sum(1 for it in items if it.answerable and any(it.labels)) / max(1, sum(it.answerable for it in items)), 4)
    return held


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--embed-top", type=int, default=EMBED_TOP)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--cache", type=Path, help="pickle of the collected features: read if present, else written")
    ap.add_argument("--reworded", type=Path, help="rewordings of `tune` questions (evals/reword_dev.py): trained on "
                    "next to the originals and counted when the threshold is chosen")
    ap.add_argument("--reworded-report", type=Path, help="rewordings of `report` questions: scored once, held out")
    ap.add_argument("--work", type=Path, help="keep the two stores here (a rerun skips the ingest); default: a temp dir")
    ap.add_argument("--no-simulated", action="store_true", help="skip the simulated rewordings (dropped terms)")
    ap.add_argument("--dry-run", action="store_true", help="print the figures; do not write the model or results")
    ap.add_argument("--ce", type=Path, help="cross-encoder logits (evals/train_crossencoder.py score): fit with them, "
                    "on the tune questions they hold (scored by a model that never saw them)")
    args = ap.parse_args()
    t0 = time.time()
    if args.cache and args.cache.exists():
        tune, report = pickle.loads(args.cache.read_bytes())
    else:
        with tempfile.TemporaryDirectory(prefix="train-answerability-") as tmp:
            work = args.work or Path(tmp)
            tune = collect("tune", work, reworded_rows(args.reworded))
            report = collect("report", work, reworded_rows(args.reworded_report))
        if args.cache:
            args.cache.write_bytes(pickle.dumps((tune, report)))
    rng = random.Random(args.seed)
    ce: dict[str, dict[str, float]] = pickle.loads(args.ce.read_bytes()) if args.ce else {}
    if ce:
        tune = [r for r in tune if r.qid in ce]
    if not args.reworded:
        tune = [r for r in tune if not r.reworded]
    tune_raw = tune
    originals = [r for r in tune_raw if not r.reworded]
    tune = [featurize(r, None, ce.get(r.qid)) for r in tune_raw]
    if not args.no_simulated:
        tune += [featurize(r, rng, ce.get(r.qid)) for r in originals]
    report_raw = [r for r in report if not r.reworded]
    report_rw = [featurize(r) for r in report if r.reworded]
    report = [featurize(r, None, ce.get(r.qid)) for r in report_raw]
    t1 = time.time()
    top = args.embed_top
    threshold, tune_cv = choose_threshold(tune, top, args.folds, args.seed)
    s1, sent, qm = fit_models(tune, top)
    data = {
        "note": "Fitted by evals/train_answerability.py on the squad-dev13 `tune` articles only.",
        "seed": args.seed, "threshold": threshold, "embed_top": top, "extra_ratio": 0.8,
        "crossencoder": bool(ce),
        "stage1": s1.to_dict(), "sentence": sent.to_dict(), "question": qm.to_dict(),
    }
    held = held_out(s1, sent, qm, report, top, threshold)
    figures = {
        "what": "offline answerability models (assistant/data/answerability.json)",
        "command": "nice -n 10 python -m evals.train_answerability" + (f" --reworded {args.reworded}" if args.reworded else "")
        + (f" --reworded-report {args.reworded_report}" if args.reworded_report else "")
        + (" --no-simulated" if args.no_simulated else "") + (" --ce CE.pkl" if ce else ""),
        "tune_articles_used": sorted({r.article for r in tune_raw}),
        "split": json.loads(dev_subset.SPLIT.read_text(encoding="utf-8")),
        "seed": args.seed, "embed_top": top, "threshold": threshold,
        "tune_questions": len(originals), "tune_reworded_by_model": len(tune_raw) - len(originals),
        "simulated_rewordings": 0 if args.no_simulated else len(originals), "reword_drop": REWORD_DROP,
        "report_questions": len(report),
        "tune_cross_validated_by_article": tune_cv,
        "report_held_out": held,
        "report_reworded_held_out": held_out(s1, sent, qm, report_rw, top, threshold) if report_rw else None,
        "note": "Approximate figures: a right answer here means the best sentence holds a gold answer; the eval "
                "(`assistant eval` on evals/dev_subset.py --split report) is the real measure.",
        "collect_s": round(t1 - t0, 1), "fit_s": round(time.time() - t1, 1),
    }
    if not args.dry_run:
        MODEL_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        figures["model_sha256"] = hashlib.sha256(MODEL_FILE.read_bytes()).hexdigest()
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
