"""The hand-written eval data is well formed: gold quotes verbatim, styles and counts as documented."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from assistant.evals import load_dataset
from assistant.load import load_file
from assistant.metrics import facts_present
from evals.check_quotes import missing_quotes

ROOT = Path(__file__).resolve().parent.parent
EVALS = ROOT / "evals"
NEWS = EVALS / "news"
STYLES = {"literal", "reworded", "multipart", "unanswerable-ontopic"}


def _rows(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_golden_reworded_lines() -> None:
    rows = [r for r in _rows(EVALS / "golden.jsonl") if "style" in r]
    styles = Counter(r["style"] for r in rows)
    assert styles["reworded"] + styles["multipart"] >= 40 and styles["multipart"] >= 10
    assert styles["unanswerable-ontopic"] >= 10 and set(styles) <= STYLES
    for r in rows:
        assert r["answerable"] == (r["style"] != "unanswerable-ontopic"), r["id"]
        if r["style"] == "multipart":
            assert len(r["facts"]) >= 2, r["id"]
    questions = {r["question"] for r in _rows(EVALS / "golden.jsonl")}
    for q in (
        "How many hours did the Kremlin meeting go on for?",
        "Which two men did Trump dispatch to Moscow?",
        "How many points did the Russian plan contain?",
        "What town did Moscow say it had taken?",
        "Who did Trump send to Moscow?",
    ):
        assert q in questions


def test_news_articles_and_dataset() -> None:
    articles = NEWS / "articles"
    names = {p.name for p in articles.glob("*.md")}
    assert len(names) >= 8
    for name in names:
        doc = load_file(articles / name, articles)
        assert 350 <= len(doc.text.split()) <= 800, name
        head = (articles / name).read_text(encoding="utf-8").split("---")[1]
        for key in ("title:", "date:", "source:", "url:", "author:"):
            assert key in head, (name, key)
    cases = load_dataset(NEWS / "dataset.jsonl")
    rows = _rows(NEWS / "dataset.jsonl")
    styles = Counter(r["style"] for r in rows)
    assert len(cases) >= 40 and styles["reworded"] + styles["multipart"] >= len(cases) / 2
    assert styles["multipart"] >= 5 and styles["unanswerable-ontopic"] >= 8
    for c in cases:
        assert set(c.gold_docs) <= names, c.id
        if c.answerable:
            assert c.gold_docs and c.gold_quotes and c.facts, c.id
            assert any(facts_present(c.facts, a) for a in c.answers), c.id
        else:
            assert not c.answers and not c.facts and not c.gold_quotes, c.id


def test_gold_quotes_verbatim() -> None:
    assert missing_quotes(EVALS / "golden.jsonl", ROOT / "corpus") == []
    assert missing_quotes(NEWS / "dataset.jsonl", NEWS / "articles") == []


def test_followup_pairs() -> None:
    rows = _rows(EVALS / "followup_pairs.jsonl")
    assert len(rows) >= 60
    assert all(set(r) == {"previous", "question", "followup"} and isinstance(r["followup"], bool) for r in rows)
    labels = Counter(r["followup"] for r in rows)
    assert labels[True] >= 20 and labels[False] >= 20
    pronoun = {"its", "their", "it", "this", "that"}
    standalone_with_pronoun = [
        r for r in rows if not r["followup"] and pronoun & set(r["question"].lower().replace("?", " ").replace(",", " ").split())
    ]
    assert len(standalone_with_pronoun) >= 10


def test_judge_pairs_v2() -> None:
    from evals.make_judge_pairs import DEFAULT_SQUAD, build

    rows = _rows(EVALS / "judge_pairs_v2.jsonl")
    kinds = {"paraphrase", "verbatim", "antonym", "role_swap", "number_swap", "added_claim", "wrong_entity", "answer_swap"}
    assert all(set(r) == {"id", "sentence", "passage", "supported", "kind", "source", "split"} for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["kind"] in kinds and r["split"] in {"tune", "report"} and r["source"] in {"hand", "squad"}, r["id"]
        assert r["supported"] == (r["kind"] in {"paraphrase", "verbatim"}), r["id"]
        assert (r["sentence"].rstrip(".") in r["passage"]) == (r["kind"] == "verbatim"), r["id"]
    hand = [r for r in rows if r["source"] == "hand"]
    assert len(hand) >= 80 and 0.35 <= sum(r["supported"] for r in hand) / len(hand) <= 0.5
    assert abs(sum(r["split"] == "tune" for r in hand) - len(hand) / 2) <= len(kinds) / 2
    squad = [r for r in rows if r["source"] == "squad"]
    assert len(squad) >= 200
    if DEFAULT_SQUAD.is_dir():  # the script reproduces the committed squad lines exactly
        assert build(DEFAULT_SQUAD, 13) == squad


def _front(path: Path) -> dict[str, str]:
    head = path.read_text(encoding="utf-8").split("---")[1]
    return {k.strip(): v.strip().strip('"') for k, v in (ln.split(":", 1) for ln in head.splitlines() if ":" in ln)}


def test_conflict_fixture() -> None:
    folder = ROOT / "tests" / "fixtures" / "conflicts"
    cases = _rows(folder / "cases.jsonl")
    assert sum(c["disagree"] for c in cases) >= 30 and sum(not c["disagree"] for c in cases) >= 30
    assert len({c["id"] for c in cases}) == len(cases)
    for c in cases:
        assert set(c) >= {"id", "question", "docs", "disagree", "values"} and len(c["docs"]) == len(c["values"]) == 2, c["id"]
        a, b = (folder / "articles" / d for d in c["docs"])
        fa, fb = _front(a), _front(b)
        assert {"title", "date", "source", "url"} <= set(fa) & set(fb), c["id"]
        assert fa["source"] != fb["source"], c["id"]
        for path, value in ((a, c["values"][0]), (b, c["values"][1])):
            text = load_file(path, folder / "articles").text
            assert 80 <= len(text.split()) <= 200 + 20, path.name  # the body, plus the title the loader may add
            assert value in text, (c["id"], value)
        if c["disagree"]:  # the other side's value is not in the text
            assert c["values"][1] not in a.read_text(encoding="utf-8"), c["id"]
            assert c["values"][0] not in b.read_text(encoding="utf-8"), c["id"]


def test_swapped_dev_copies(tmp_path: Path) -> None:
    from evals.make_swapped_dev import DEFAULT_SQUAD, build

    if not DEFAULT_SQUAD.is_dir():
        return
    lines = build(DEFAULT_SQUAD, tmp_path / "one", "report", 13)
    assert lines == build(DEFAULT_SQUAD, tmp_path / "two", "report", 13)  # deterministic
    assert len(lines) >= 50
    report = set(json.loads((EVALS / "dev_split.json").read_text(encoding="utf-8"))["report"])
    for line in lines:
        original, copy = (tmp_path / "one" / "articles" / d for d in line["docs"])  # type: ignore[union-attr]
        old, new = line["values"]  # type: ignore[misc]
        assert line["article"] in report and new not in line["answers"]  # type: ignore[operator]
        assert old in original.read_text(encoding="utf-8") and new in copy.read_text(encoding="utf-8")
        assert _front(copy)["source"] != _front(original)["source"]
