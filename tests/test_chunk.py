"""Pure chunking and sentence splitting."""

from assistant.chunk import chunk_document, chunk_text, split_sentences
from assistant.load import load_file
from assistant.tokens import count_tokens
from tests.conftest import CORPUS, SEED


def test_sentences_split_on_stops_and_lines_not_abbreviations() -> None:
    text = "Mr. Smith went to Washington. He met Dr. Jones at 5 p.m. today!\nA new line here"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Mr. Smith went to Washington.",
        "He met Dr. Jones at 5 p.m. today!",
        "A new line here",
    ]


def test_chunks_respect_token_budget_and_offsets() -> None:
    doc = load_file(SEED, CORPUS)
    chunks = chunk_document(doc, 120, 24, count_tokens)
    assert len(chunks) > 5
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert count_tokens(c.text) <= 120 + 2  # joins add at most a separator token
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    words_start = [i for i, ch in enumerate(doc.text) if not ch.isspace()]
    assert all(i in covered for i in words_start), "every character of text is in some chunk"


def test_overlap_repeats_trailing_sentences() -> None:
    text = " ".join(f"Sentence number {i} says something about topic {i}." for i in range(40))
    spans = chunk_text(text, 60, 20, count_tokens)
    assert len(spans) > 3
    assert all(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1)), "consecutive chunks overlap"
    no_overlap = chunk_text(text, 60, 0, count_tokens)
    assert all(no_overlap[i + 1][0] >= no_overlap[i][1] for i in range(len(no_overlap) - 1))


def test_overlong_sentence_is_split_at_words() -> None:
    text = "word " * 500
    spans = chunk_text(text.strip(), 64, 0, count_tokens)
    assert len(spans) >= 7
    assert all(count_tokens(text[s:e]) <= 64 for s, e in spans)


def test_chunk_ids_are_content_addressed() -> None:
    doc = load_file(SEED, CORPUS)
    a = chunk_document(doc, 160, 32, count_tokens)
    b = chunk_document(doc, 160, 32, count_tokens)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert all(c.chunk_id.startswith(f"{doc.doc_id}#{doc.content_hash[:12]}#") for c in a)
