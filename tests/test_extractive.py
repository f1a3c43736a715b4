"""Pure parts of the offline answerer: question analysis, parts, typed spans, the logistic models."""

import numpy as np
import pytest

from assistant.answerability import auroc, fit, load
from assistant.question import analyse, parts, typed_spans


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who did Trump send to Moscow?", "person"),
        ("Which two men did Trump dispatch to Moscow?", "person"),
        ("How many hours did the Kremlin meeting go on for?", "duration"),
        ("How long did the talks last?", "duration"),
        ("How many points did the Russian plan contain?", "number"),
        ("What town did Moscow say it had taken?", "place"),
        ("In what year did Tesla die?", "date"),
        ("When will the museum close?", "date"),
        ("Why won't Putin take the deal?", "reason"),
        ("Is the bridge open?", "yesno"),
        ("What are Putin's objectives?", "thing"),
    ],
)
def test_question_kinds(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_plural_people_and_number_words() -> None:
    q = analyse("Which two men did Trump dispatch to Moscow?")
    assert q.plural and q.numbers == ()  # "two men" is not a number the evidence must repeat
    assert analyse("How many people died in 1906?").numbers == ("1906",)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much will the bridge cost and how will it be funded?",
         ["How much will the bridge cost?", "How will it be funded?"]),
        ("Who and when founded the company?", ["Who founded the company?", "When founded the company?"]),
        ("Who did Trump send to Moscow?", ["Who did Trump send to Moscow?"]),
        ("What did Witkoff and Kushner bring?", ["What did Witkoff and Kushner bring?"]),
    ],
)
def test_parts(question: str, expected: list[str]) -> None:
    assert parts(question) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "spans"),
    [
        ("How many hours did the Kremlin meeting go on for?", "They left after five hours of tense talks in the Kremlin.",
         ["five hours"]),
        ("When was Tesla born?", "Tesla was born on 10 July 1856 in Smiljan.", ["10 July 1856"]),
        ("What town did Moscow say it had taken?", "Recent claims of capturing Pokrovsk reinforce Moscow's narrative.",
         ["Pokrovsk"]),
        ("How much did the repair cost?", "The repair cost 48 million dollars.", ["48 million dollars"]),
        ("How many points did the plan contain?", "They revealed a 27-point plan and four related documents.", ["27-point"]),
    ],
)
def test_typed_spans(question: str, sentence: str, spans: list[str]) -> None:
    q = analyse(question)
    assert [sentence[s:e] for s, e in typed_spans(q.kind, sentence, q)] == spans


def test_logistic_fit_separates_and_auroc() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    model = fit(("a", "b"), x.tolist(), y.tolist())
    p = model.predict(x.tolist())
    assert auroc(p.tolist(), y.tolist()) > 0.95
    assert abs(model.coef[0]) > 5 * abs(model.coef[1])
    assert auroc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]) == 1.0
    assert auroc([0.5, 0.5], [0, 1]) == 0.5


def test_shipped_models_load() -> None:
    m = load()
    assert 0.0 < m.threshold < 1.0 and m.embed_top >= 4
    assert len(m.question.names) == len(m.question.coef)


def test_predict_columns_reads_its_own_features_by_name() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    model = fit(("a", "b"), x.tolist(), (x[:, 1] > 0).astype(int).tolist())
    wide = np.hstack([rng.normal(size=(200, 1)), x[:, ::-1]])  # an extra column first, then b, a
    assert np.allclose(model.predict_columns(("extra", "b", "a"), wide.tolist()), model.predict(x.tolist()))
    assert not load().uses_crossencoder  # no cross-encoder shipped: the answerer must not wait for one


def test_a_demonym_the_sources_do_not_use_is_not_a_missing_name() -> None:
    from assistant.extractive import answer
    from assistant.lexicon import is_demonym
    from assistant.types import Passage

    text = ("The US-led effort to secure a ceasefire failed on Tuesday. Moscow turned away the envoys after five "
            "hours of talks in the Kremlin, officials said.")
    passages = [Passage("d#0", "d", "Talks", "d.md", text, 0, len(text), 1.0)]
    # "American" is how a reader says "US-led": the models decide, the missing-name rule does not refuse outright
    assert answer("Did Moscow accept the American push for a ceasefire?", passages).refusal_score != 1.0
    # a person the sources never name still refuses outright
    assert answer("Did Macron accept the push for a ceasefire?", passages).refusal_score == 1.0
    assert [w for w in ("american", "europeans", "ukrainian", "chinese") if not is_demonym(w)] == []
    assert [w for w in ("iran", "putin", "macron", "moscow", "kremlin") if is_demonym(w)] == []


def test_a_marker_after_a_closing_quote_stays_with_its_sentence() -> None:
    from assistant.citations import answer_sentences

    text = 'He said drivers would "not balance this budget a third time." [2] The agency expects a gap. [3]'
    assert answer_sentences(text) == [('He said drivers would "not balance this budget a third time."', [2]),
                                      ("The agency expects a gap.", [3])]


def test_each_part_of_a_two_part_question_reads_its_own_passages(embedder) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from assistant.extractive import answer
    from assistant.types import Passage

    def passage(n: int, text: str) -> Passage:
        return Passage(f"d{n}#0", f"d{n}", f"Doc {n}", f"d{n}.md", text, 0, len(text), 1.0)

    cost = passage(1, "The new harbor bridge will cost $612 million, the council said on Monday after a long debate.")
    mayor = passage(2, "The harbor bridge opening ceremony was led by Mayor Elena Vasquez, who cut the ribbon at noon.")
    question = "How much will the harbor bridge cost, and who led the opening ceremony?"
    searched: list[str] = []

    def search(part: str) -> list[Passage]:
        searched.append(part)
        return [mayor] if "ceremony" in part else [cost]

    def similarity(q: str, texts: list[str]) -> list[float]:  # the real embedded model, as Assistant gives it
        return [float(v) for v in np.asarray(embedder.embed_documents(list(texts))) @ np.asarray(embedder.embed_query(q))]

    alone = answer(question, [cost], similarity=similarity)  # one search found only the cost's passage
    both = answer(question, [cost], similarity=similarity, search=search)
    assert searched == ["How much will the harbor bridge cost?", "Who led the opening ceremony?"]
    assert "Vasquez" not in alone.text and "Vasquez" in both.text and "$612 million" in both.text
    assert [p.chunk_id for p in both.passages] == ["d1#0", "d2#0"]
    assert {c.doc_id for c in both.citations} == {"d1", "d2"}


@pytest.mark.parametrize(("sentence", "found", "shown"), [
    ("Kenya fined Highland Leaf Estates KSh18 million after tests found banned residues.", "million after",
     "KSh18 million"),
    ("The council will spend NZ$4.2 million repairing the harbour wall.", "$4.2 million repairing", "NZ$4.2 million"),
    ("The yard will cut 1,150 jobs over the next year.", "1,150 jobs", "1,150 jobs"),
    ("The bridge cost 40 million euros.", "40 million euros", "40 million euros"),
])
def test_short_answer_shows_the_whole_figure(sentence: str, found: str, shown: str) -> None:
    """The number put up front keeps its currency and digits and drops a word it does not count."""
    from assistant.extractive import whole_figure

    s = sentence.index(found)
    a, b = whole_figure(sentence, s, s + len(found))
    assert sentence[a:b] == shown
