"""Grounded offline answers end to end on the seed article (real model, real Chroma)."""

import pytest

from assistant.citations import answer_sentences, verify
from assistant.judge import supports
from tests.conftest import SEED


@pytest.fixture(scope="module")
def bot(embedder, tmp_path_factory):  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings
    from tests.conftest import CORPUS

    assistant = Assistant(Settings(data_dir=tmp_path_factory.mktemp("data"), corpus_dir=CORPUS), embedder=embedder)
    assistant.ensure_ingested()
    return assistant


def _doc_text(bot) -> str:  # type: ignore[no-untyped-def]
    return bot.store.doc_text(SEED.name)


def test_who_did_trump_send(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.answer("Who did Trump send to Moscow?")
    assert not ans.refused
    assert "Witkoff" in ans.text and "Kushner" in ans.text
    text = _doc_text(bot)
    cited = [c for c in ans.citations if "Witkoff" in c.quote]
    assert cited and all(text[c.start : c.end] == c.quote for c in cited)
    assert verify(ans, {SEED.name: text}) == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long did the talks last?", "five hours"),
        ("How many points were in the plan Putin's team revealed?", "27-point"),
        ("Which Russian aide flaunted the document count?", "Ushakov"),
        ("Which town did Russia recently claim to capture?", "Pokrovsk"),
        ("What are Putin's objectives?", "security order"),
        ("What rebellion did Putin weather?", "Wagner"),
        ("What deadline did Trump promise?", "Thanksgiving"),
    ],
)
def test_factual_questions(bot, question: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    ans = bot.answer(question)
    assert not ans.refused, ans.text
    assert expected in ans.text
    assert verify(ans, {SEED.name: _doc_text(bot)}) == []
    by_n = {c.n: c for c in ans.citations}
    for sentence, ns in answer_sentences(ans.text):
        assert ns, f"sentence without citation: {sentence}"
        assert any(supports(sentence, by_n[n].quote) for n in ns)


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "Who won the 2024 Super Bowl?",
        "How many soldiers have died in the war?",
        "When will the next round of talks take place?",
        "What did Emmanuel Macron say about the proposal?",
        "How do I bake sourdough bread?",
    ],
)
def test_unanswerable_questions_are_refused(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    ans = bot.answer(question)
    assert ans.refused, ans.text
    assert ans.text.startswith("The sources don't say")
    assert ans.citations == []


def test_follow_up_uses_history(bot) -> None:  # type: ignore[no-untyped-def]
    first = bot.answer("Who did Trump send to Moscow?")
    follow = bot.answer("How long did their talks last?", history=[("Who did Trump send to Moscow?", first.text)])
    assert "five hours" in follow.text
    assert follow.standalone_question and "Moscow" in follow.standalone_question


def test_no_duplicate_sentences(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.answer("What problems does Ukraine face?")
    sentences = [s for s, _ in answer_sentences(ans.text)]
    assert len(sentences) == len(set(sentences))


def test_unknown_doc_filter_is_a_value_error(bot) -> None:  # type: ignore[no-untyped-def]
    seed = "putin-sends-trump-envoys-away.md"
    with pytest.raises(ValueError, match=r"'no-such-doc\.md'.*assistant ingest --json"):
        bot.answer("Who did Trump send to Moscow?", doc_ids=["no-such-doc.md"])
    with pytest.raises(ValueError, match=r"'putin-sends-trump-envoys-away\.mdx'.*did you mean '" + seed):
        bot.answer("Who did Trump send to Moscow?", doc_ids=[seed, seed + "x"])
    ans = bot.answer("Who did Trump send to Moscow?", doc_ids=seed)  # a single id as a string
    assert not ans.refused and {p.doc_id for p in ans.passages} == {seed}


@pytest.mark.parametrize("question", ["", "   \n\t ", "x" * 200_000])
def test_bad_questions_get_clear_errors(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    from assistant import QuestionError

    with pytest.raises(QuestionError, match="empty|limit"):
        bot.answer(question)


def test_control_characters_are_stripped(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.answer("Who did Trump\x00 send\x1b to Moscow?\x07")
    assert "Witkoff" in ans.text


def test_answer_json_contract(bot) -> None:  # type: ignore[no-untyped-def]
    data = bot.answer("Who did Trump send to Moscow?").to_dict()
    assert {"answer", "refused", "citations"} <= set(data)
    assert set(data["citations"][0]) >= {"n", "doc_id", "title", "source", "chunk_id", "quote", "start", "end", "score"}
