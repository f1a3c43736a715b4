"""Pure metric functions on hand-made data (no model, no store)."""

from __future__ import annotations

import pytest

from assistant.metrics import (
    SUMMARY_KEYS,
    CitedSentence,
    QuestionScores,
    citation_scores,
    cited_sentences,
    exact_match,
    extra_summary,
    fact_present,
    facts_present,
    hit_at_k,
    judge_validation,
    mean,
    normalize_answer,
    passage_matches_quote,
    quote_has_answer,
    reciprocal_rank,
    refusal_scores,
    score_question,
    strip_markers,
    summarize,
    token_f1,
)
from assistant.types import Answer, Citation, Passage


def words_in(sentence: str, passage: str) -> bool:
    """A transparent fake judge: every word of the sentence occurs in the passage."""
    return set(sentence.lower().rstrip(".").split()) <= set(passage.lower().replace(".", " ").split())


def passage(cid: str, text: str, doc: str = "a.md") -> Passage:
    return Passage(cid, doc, "T", doc, text, 0, len(text), 1.0)


def citation(n: int, p: Passage, quote: str | None = None) -> Citation:
    q = quote or p.text
    start = p.text.index(q)
    return Citation(n, p.doc_id, p.title, p.source, p.chunk_id, q, start, start + len(q), p.score)


# -- retrieval --


def test_hit_and_reciprocal_rank() -> None:
    rel = [False, False, True, False]
    assert hit_at_k(rel, 1) == 0.0 and hit_at_k(rel, 3) == 1.0 and hit_at_k(rel, 10) == 1.0
    assert reciprocal_rank(rel) == pytest.approx(1 / 3)
    assert reciprocal_rank(rel, k=2) == 0.0
    assert reciprocal_rank([]) == 0.0 and hit_at_k([], 5) == 0.0


def test_passage_matches_quote_contained_cut_and_unrelated() -> None:
    text = "The bridge closed in March 2023 when inspectors found corrosion in three of its twelve support cables."
    assert passage_matches_quote(text, "inspectors found  corrosion")
    cut = "when inspectors found corrosion in three of its twelve support cables. Ferry operators added crossings"
    assert passage_matches_quote(text, cut)  # a chunk boundary cut the quote: 8-word overlap
    assert not passage_matches_quote(text, "Ferry operators added extra crossings during the closure")
    assert not passage_matches_quote(text, "")


# -- correctness --


def test_squad_normalisation_exact_match_and_f1() -> None:
    assert normalize_answer("The  Wagner rebellion! [1]") == "wagner rebellion"
    assert exact_match("the Wagner rebellion [2].", ["Wagner rebellion"]) == 1.0
    assert exact_match("Wagner", ["Wagner rebellion"]) == 0.0
    assert token_f1("Wagner", ["Wagner rebellion"]) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert token_f1("five hours of talks", ["nothing", "five hours"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("", ["x"]) == 0.0 and token_f1("x", []) == 0.0


def test_facts_with_alternatives_ignore_case_markers_and_spacing() -> None:
    text = "They talked for Five\nhours [1]."
    assert strip_markers(text) == "They talked for Five\nhours."
    assert fact_present("5 hours|five hours", text)
    assert not fact_present("six hours", text)
    assert facts_present(["five hours", "talked"], text) == 1.0
    assert facts_present(["five hours", "Kremlin"], text) == 0.0


# -- citations (ALCE) --


def test_citation_recall_and_precision_follow_alce() -> None:
    s = [
        CitedSentence("alpha beta.", ("alpha beta",)),  # supported, precise
        CitedSentence("gamma delta.", ("gamma", "delta")),  # only jointly supported: both precise
        CitedSentence("eta theta.", ("eta theta", "zzz")),  # zzz is irrelevant: alone fails, the rest supports
        CitedSentence("iota kappa.", ("nothing here",)),  # unsupported: its citation is not precise
        CitedSentence("lambda mu.", ()),  # no citation: counts against recall only
    ]
    score = citation_scores(s, words_in)
    assert score.n_sentences == 5 and score.n_supported == 3
    assert score.recall == pytest.approx(3 / 5)
    assert score.n_citations == 6 and score.n_precise == 4
    assert score.precision == pytest.approx(4 / 6)
    assert [v["precise"] for v in score.sentences] == [[True], [True, True], [True, False], [False], []]


def test_two_citations_each_sufficient_are_both_precise() -> None:
    score = citation_scores([CitedSentence("alpha.", ("alpha", "alpha beta"))], words_in)
    assert score.precision == 1.0 and score.recall == 1.0


def test_empty_answer_scores_zero() -> None:
    score = citation_scores([], words_in)
    assert score.recall == 0.0 and score.precision == 0.0


def test_cited_sentences_resolve_chunk_ids_to_retrieved_passages() -> None:
    p1 = passage("a#1", "Witkoff and Kushner traveled to Moscow. They met Putin.")
    p2 = passage("a#2", "The talks lasted five hours.")
    text = "Witkoff and Kushner traveled to Moscow [1]. The talks lasted five hours [2] [1]."
    a = Answer("q", text, False, [citation(1, p1, "Witkoff and Kushner traveled to Moscow."), citation(2, p2)], [p1, p2])
    out = cited_sentences(a)
    assert [c.markers for c in out] == [(1,), (2, 1)]
    assert out[0].cited == (p1.text,)  # the whole passage, not just the quote
    assert out[1].cited == (p2.text, p1.text)
    orphan = Answer("q", "Moscow [1].", False, [citation(1, p1, "Moscow")], [])
    assert cited_sentences(orphan)[0].cited == ("Moscow",)  # passage not retrieved: the quote stands in


# -- refusals, per-question scoring and summary --


def test_refusal_precision_and_recall() -> None:
    refused = [True, True, False, False]
    unanswerable = [True, False, True, False]
    assert refusal_scores(refused, unanswerable) == (0.5, 0.5)
    assert refusal_scores([False, False], [True, False]) == (None, 0.0)
    assert refusal_scores([True], [False]) == (0.0, None)
    assert mean([None, 1.0, 0.0]) == 0.5 and mean([None]) is None


def test_score_question_answered_and_refused() -> None:
    p = passage("a#1", "The talks lasted five hours in the Kremlin.")
    ok = Answer("q", "The talks lasted five hours in the Kremlin. [1]", False, [citation(1, p)], [p])
    s = score_question(
        ok, answerable=True, ranked_docs=["b.md", "a.md"], ranked_texts=["x", p.text], gold_docs=["a.md"],
        gold_quotes=["lasted five hours"], answers=["five hours"], facts=["five hours|5 hours"], support=words_in,
    )
    assert (s.hit_at_1, s.hit_at_5, s.rr_at_10) == (0.0, 1.0, 0.5)
    assert (s.passage_hit_at_1, s.passage_rr_at_10) == (0.0, 0.5)
    assert s.accuracy == 1.0 and s.exact_match == 0.0 and 0 < (s.f1 or 0) < 1
    assert s.citations is not None and s.citations.recall == 1.0
    refused = Answer("q", "The sources don't say.", True, [], [p])
    r = score_question(refused, answerable=True, ranked_docs=["a.md"], ranked_texts=[p.text], gold_docs=["a.md"],
                       answers=["five hours"], facts=["five hours"], support=words_in)
    assert r.accuracy == 0.0 and r.f1 == 0.0 and r.citations is None  # refusals: no citation metrics
    un = score_question(refused, answerable=False, ranked_docs=["a.md"], ranked_texts=[p.text], gold_docs=["a.md"])
    assert un.hit_at_1 is None and un.accuracy is None and un.f1 is None


def test_quote_has_answer_fails_when_the_wrong_sentence_is_quoted() -> None:
    right = passage("a#1", "The talks lasted five hours in the Kremlin.")
    wrong = passage("a#2", "Putin met the envoys in Moscow.")
    ok = Answer("q", "The talks lasted five hours in the Kremlin. [1]", False, [citation(1, right)], [right])
    bad = Answer("q", "Putin met the envoys in Moscow. [1]", False, [citation(1, wrong)], [wrong])
    assert quote_has_answer(ok, ["five hours|5 hours"]) == 1.0
    assert quote_has_answer(bad, ["five hours|5 hours"]) == 0.0  # citation precision would still be 1.0 here
    assert quote_has_answer(ok, [], ["5 hours", "five hours"]) == 1.0  # no facts: any gold answer
    two = Answer("q", "x [1] y [2]", False, [citation(1, right), citation(2, wrong)], [right, wrong])
    assert quote_has_answer(two, ["five hours", "Moscow"]) == 1.0  # every fact, across the quotes together
    s = score_question(bad, answerable=True, ranked_docs=[], ranked_texts=[], facts=["five hours"], support=words_in)
    assert s.quote_has_answer == 0.0 and s.accuracy == 0.0
    refused = Answer("q", "The sources don't say.", True, [], [right])
    r = score_question(refused, answerable=True, ranked_docs=[], ranked_texts=[], facts=["five hours"], support=words_in)
    assert r.quote_has_answer is None  # the share is over answered questions


def test_extra_summary_per_style() -> None:
    scores = [QuestionScores(answerable=True, refused=False, accuracy=1.0, quote_has_answer=1.0, style="reworded"),
              QuestionScores(answerable=True, refused=True, accuracy=0.0, style="reworded"),
              QuestionScores(answerable=False, refused=True, style="unanswerable-ontopic"),
              QuestionScores(answerable=False, refused=False, style="unanswerable-ontopic"),
              QuestionScores(answerable=True, refused=False, accuracy=0.0, quote_has_answer=0.0)]
    extra = extra_summary(scores)
    assert extra["answer_accuracy_reworded"] == 0.5 and "quote_has_answer_reworded" not in extra
    assert extra["refusal_recall_unanswerable_ontopic"] == 0.5 and "answer_accuracy_unanswerable_ontopic" not in extra
    assert extra["quote_has_answer"] == 0.5


def test_summary_has_exactly_the_contract_keys_with_none_where_undefined() -> None:
    scores = [QuestionScores(answerable=True, refused=False, hit_at_1=1.0, accuracy=1.0),
              QuestionScores(answerable=True, refused=False, hit_at_1=0.0, accuracy=0.0)]
    summary = summarize(scores)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["n_questions"] == 2 and summary["hit_at_1"] == 0.5 and summary["answer_accuracy"] == 0.5
    assert summary["citation_recall"] is None and summary["faithfulness"] is None
    assert summary["refusal_precision"] is None and summary["refusal_recall"] is None


def test_judge_validation_counts() -> None:
    pairs = [
        {"id": "1", "kind": "quote", "label": True, "sentence": "a b", "passage": "a b c"},
        {"id": "2", "kind": "number", "label": False, "sentence": "a z", "passage": "a b c"},
        {"id": "3", "kind": "paraphrase", "label": True, "sentence": "a y", "passage": "a b c"},
        {"id": "4", "kind": "name", "label": False, "sentence": "a", "passage": "a b c"},
    ]
    r = judge_validation(pairs, words_in)
    assert (r["precision"], r["recall"], r["accuracy"]) == (0.5, 0.5, 0.5)
    assert [e["id"] for e in r["errors"]] == ["3", "4"]
    assert r["by_kind"]["quote"] == {"n": 1, "accuracy": 1.0}
