"""Loading real files of every supported type; bad files rejected with a reason."""

from pathlib import Path

import pytest

from assistant.load import LoadError, load_file
from tests.conftest import CORPUS, SEED


def test_seed_markdown_front_matter_becomes_metadata() -> None:
    doc = load_file(SEED, CORPUS)
    assert doc.doc_id == "putin-sends-trump-envoys-away.md"
    assert doc.title.startswith("Putin Sends Trump’s Envoys Away Empty-Handed")
    assert doc.metadata == {"section": "US"}
    assert not doc.text.startswith("---")
    assert "Steve Witkoff" in doc.text
    assert len(doc.content_hash) == 64


def test_html_article_extracted_without_boilerplate(tmp_path: Path) -> None:
    body = " ".join(["The harbour authority approved the new ferry terminal after a long public inquiry."] * 6)
    html = f"""<html><head><title>Ferry terminal approved | Coast Gazette</title>
    <meta property="og:site_name" content="Coast Gazette"><meta name="date" content="2025-03-04"></head>
    <body><nav><a href="/">Home</a> <a href="/sport">Sport</a> Subscribe now!</nav>
    <article><h1>Ferry terminal approved</h1><p>{body}</p><p>Construction starts in May and costs 40 million euros.</p></article>
    <footer>Copyright Coast Gazette. Cookie settings.</footer></body></html>"""
    path = tmp_path / "ferry.html"
    path.write_text(html, encoding="utf-8")
    doc = load_file(path, tmp_path)
    assert "ferry terminal" in doc.text
    assert "40 million euros" in doc.text
    assert "Subscribe" not in doc.text and "Cookie" not in doc.text
    assert doc.title.startswith("Ferry terminal approved")
    assert doc.metadata.get("date") == "2025-03-04"


def test_pdf_text_by_page(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for page in ("The first page reports the council budget of 12 million.", "The second page covers the new library."):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 10, page)
    path = tmp_path / "report.pdf"
    pdf.output(str(path))
    doc = load_file(path, tmp_path)
    assert "council budget of 12 million" in doc.text and "new library" in doc.text
    assert doc.metadata["pages"] == "2"
    second = int(doc.metadata["page_starts"].split(",")[1])
    assert doc.text[second:].startswith("The second page")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\t \n", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        ("program.md", b"\x7fELF\x02\x01\x01" + bytes(200), "executable"),
        ("nul.txt", b"hello\x00world" * 10, "binary"),
        ("mixed.txt", "caf\u00e9 ".encode() + b" na\xefve text with more words", "mixed text encodings"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage", "PDF"),
        ("notes.docx", b"PK\x03\x04 fake", "unsupported file type"),
        ("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text"),
        ("bad-front.md", b"---\ntitle: [unclosed\n---\nSome text here for the body.", "front matter"),
    ],
)
def test_bad_files_are_rejected_with_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_file(path, tmp_path)


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Le café de la gare a fermé après trente ans.".encode("latin-1"))
    doc = load_file(path, tmp_path)
    assert "café" in doc.text and "après" in doc.text


def test_symlink_out_of_corpus_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("A secret article outside the corpus folder.", encoding="utf-8")
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "link.md").symlink_to(outside)
    with pytest.raises(LoadError, match="symlink points outside"):
        load_file(root / "link.md", root)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(LoadError, match="over the"):
        load_file(path, tmp_path, max_bytes=1000)
