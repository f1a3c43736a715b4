"""Files -> Document: txt, md (front matter), html (article extraction), pdf; bad files rejected clearly."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from assistant.dates import iso_date
from assistant.types import Document

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = 20 * 1024 * 1024
_EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa", b"#!")
# Footnote markers in article text look exactly like the answer's [n] citations; "[1]: url" definitions stay.
_REFERENCE_MARKER = re.compile(r"[ \t]*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\](?!:)")
_BINARY_MAGIC = (b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"%PDF")


class LoadError(ValueError):
    """A file cannot be turned into a Document; the message says why."""


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) for every candidate file under the given files or folders, sorted."""
    for given in paths:
        if given.is_dir():
            root = given
            for path in sorted(given.rglob("*")):
                rel = path.relative_to(given)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if path.is_file() or path.is_symlink():
                    yield path, root
        else:
            yield given, given.parent


def doc_id_for(path: Path, root: Path) -> str:
    """Stable id: the path under the corpus root, with forward slashes."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def load_file(path: Path, root: Path | None = None, *, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read one article file into a Document, or raise LoadError with the reason."""
    root = root if root is not None else path.parent
    suffix = path.suffix.lower()
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root.resolve()):
            raise LoadError(f"symlink points outside the corpus folder (to {target}); not followed")
    if not path.exists():
        raise LoadError("not found: no such file or folder")
    check_file(suffix, path.stat().st_size, max_bytes)
    data = path.read_bytes()
    return parse_bytes(data, suffix, doc_id_for(path, root), str(path))


def check_file(suffix: str, size: int, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Reject a file by its type or size before reading it (raises LoadError)."""
    if suffix not in SUPPORTED:
        raise LoadError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}")
    if size == 0:
        raise LoadError("empty file")
    if size > max_bytes:
        raise LoadError(f"file is {_size(size)}, over the {_size(max_bytes)} size limit")


def _size(n: int) -> str:
    """A byte count for people: bytes, KiB or MiB."""
    if n < 1024:
        return f"{n:,} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB".replace(".0 ", " ")
    return f"{n / (1024 * 1024):.1f} MiB".replace(".0 ", " ")


def parse_bytes(data: bytes, suffix: str, doc_id: str, source: str) -> Document:
    """Parse raw file bytes of a given type into a Document."""
    if not data.strip():
        raise LoadError("empty file (only whitespace)")
    head = data[:8]
    if any(head.startswith(m) for m in _EXECUTABLE_MAGIC) and suffix != ".pdf" and not data.startswith(b"#!/"):
        raise LoadError("binary executable, not an article")
    if suffix == ".pdf":
        title, text, meta = _parse_pdf(data)
    else:
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))  # its NUL bytes are text
        if any(head.startswith(m) for m in _BINARY_MAGIC) or (b"\x00" in data[:8192] and not utf16):
            raise LoadError("binary file, not text")
        raw = decode_text(data)
        if suffix in (".html", ".htm"):
            title, text, meta = _parse_html(raw)
        elif suffix in (".md", ".markdown"):
            title, text, meta = _parse_markdown(raw)
        else:
            title, text, meta = _parse_text(raw)
        text = strip_reference_markers(text)
    text = normalize_text(text)
    meta = news_metadata(meta)
    if len(re.findall(r"\w+", text)) < 3:
        raise LoadError("no readable text (fewer than 3 words)")
    title = title.strip() or Path(doc_id).stem.replace("-", " ").replace("_", " ")
    digest = hashlib.sha256(text.encode("utf-8") + b"\x00" + repr(sorted(meta.items())).encode()).hexdigest()
    return Document(doc_id=doc_id, source=source, title=title, text=text, content_hash=digest, metadata=meta)


# Front-matter keys read (README "Article metadata"); `source` and `publisher` are other names for the outlet.
_OUTLET_KEYS = ("outlet", "source", "publisher", "sitename")


def news_metadata(meta: dict[str, str]) -> dict[str, str]:
    """Metadata with `outlet` filled from its other names and `date` as an ISO date (other keys kept)."""
    out = dict(meta)
    outlet = next((str(meta[k]).strip() for k in _OUTLET_KEYS if str(meta.get(k) or "").strip()), "")
    if outlet:
        out["outlet"] = outlet
    if out.get("date"):
        iso = iso_date(out["date"])
        if iso:
            out["date"] = iso
    return out


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or pure Windows-1252; reject mixed encodings."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError(f"not valid UTF-16 despite its byte-order mark ({exc.reason})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    # Valid multi-byte UTF-8 sequences next to invalid bytes means two encodings in one file.
    if re.search(rb"[\xc2-\xf4][\x80-\xbf]+", data) and _has_valid_utf8_multibyte(data):
        raise LoadError(
            f"mixed text encodings: valid UTF-8 and invalid bytes (first at byte {first_bad}); "
            "re-save the file as UTF-8"
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise LoadError(f"not UTF-8 text (invalid byte at {first_bad}) and not Windows-1252 either") from None
    if sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f") > len(text) // 100:
        raise LoadError("binary content: too many control characters for text")
    return text


def strip_reference_markers(text: str) -> str:
    """Drop footnote markers such as [7] or [1, 2]: their footnotes are not kept and they would pass for citations."""
    return _REFERENCE_MARKER.sub("", text)


def _has_valid_utf8_multibyte(data: bytes) -> bool:
    for match in re.finditer(rb"[\xc2-\xf4][\x80-\xbf]{1,3}", data):
        try:
            match.group().decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def normalize_text(text: str) -> str:
    """Unify newlines, drop control characters and trailing spaces, collapse runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _parse_text(raw: str) -> tuple[str, str, dict[str, str]]:
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    title = lines[0] if lines and len(lines[0]) <= 200 else ""
    return title, raw, {}


def _parse_markdown(raw: str) -> tuple[str, str, dict[str, str]]:
    import frontmatter  # type: ignore[import-untyped]
    import yaml

    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as exc:
        raise LoadError(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    meta = {str(k): str(v) for k, v in post.metadata.items() if v is not None and not isinstance(v, (dict, list))}
    title = meta.pop("title", "")
    body = _MD_HIDDEN_HTML.sub("", post.content)
    if not title:
        heading = re.search(r"^#\s+(.+)$", body, re.M)
        title = heading.group(1) if heading else ""
    return title, body, meta


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d])")
_HIDDEN_CLASSES = {"hidden", "d-none", "invisible", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text"}
# Raw HTML in Markdown that a rendered page never shows: comments, scripts, hidden elements (not nested).
_MD_HIDDEN_HTML = re.compile(
    r"<!--.*?-->"
    r"|<(script|style|template|noscript)\b[^>]*>.*?</\1\s*>"
    r"|<(\w+)\b(?=[^>]*(?:\shidden(?=[\s>=/])|aria-hidden\s*=\s*[\"']true|display\s*:\s*none|visibility\s*:\s*hidden))"
    r"[^>]*>.*?</\2\s*>",
    re.S | re.I,
)
_HIDDEN_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg")


def _is_hidden(el: Any) -> bool:
    """True for an element a reader of the page never sees: scripts, templates, hidden by markup or style."""
    classes = set((el.get("class") or "").lower().split())
    return bool(
        el.tag.lower() in _HIDDEN_TAGS
        or el.get("hidden") is not None
        or (el.get("aria-hidden") or "").lower() == "true"
        or (el.get("type") or "").lower() == "hidden"
        or _HIDDEN_STYLE.search((el.get("style") or "").lower())
        or classes & _HIDDEN_CLASSES
    )


def drop_hidden_html(raw: str) -> str:
    """The HTML without comments, scripts and hidden elements, so hidden text is never indexed."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(raw)
    except (lxml.etree.ParserError, ValueError):
        return re.sub(r"<!--.*?-->", "", raw, flags=re.S)
    hidden = [el for el in root.iter() if not isinstance(el.tag, str) or _is_hidden(el)]  # comments have no str tag
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the text that follows the element
    return str(lxml.html.tostring(root, encoding="unicode"))


def _parse_html(raw: str) -> tuple[str, str, dict[str, str]]:
    import trafilatura

    raw = drop_hidden_html(raw)
    try:
        extracted = trafilatura.bare_extraction(
            raw, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True
        )
    except Exception as exc:  # trafilatura raises a variety of parser errors on broken markup
        raise LoadError(f"broken HTML: {exc}") from None
    if extracted is None:
        raise LoadError("no article text found in the HTML (navigation or boilerplate only)")
    data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    text = data.get("text") or ""
    if len(re.findall(r"\w+", text)) < 3:
        raise LoadError("no article text found in the HTML (navigation or boilerplate only)")
    meta: dict[str, str] = {}
    for key, name in (("date", "date"), ("url", "url"), ("sitename", "outlet"), ("author", "author")):
        if data.get(key):
            meta[name] = str(data[key])
    return str(data.get("title") or ""), text, meta


def _parse_pdf(data: bytes) -> tuple[str, str, dict[str, str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise LoadError("not a PDF file (missing %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                unlocked = bool(reader.decrypt(""))
            except Exception:
                unlocked = False
            if not unlocked:
                raise LoadError("encrypted PDF: remove the password and try again")
        pages = [join_wrapped_lines(normalize_text(strip_reference_markers(page.extract_text() or "")))
                 for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many error types on corrupt files
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from None
    # Pages are joined by one blank line; an empty page adds nothing and starts where the next page starts,
    # so every offset in page_starts points at its page's own text in the final (already normalised) text.
    text = "\n\n".join(page for page in pages if page)
    starts: list[str] = []
    offset = 0
    for page in pages:
        starts.append(str(min(offset, len(text))))
        if page:
            offset += len(page) + 2
    if not text:
        raise LoadError("PDF has no extractable text (scanned images?)")
    title, meta = "", {"page_starts": ",".join(starts), "pages": str(len(pages))}
    try:
        info: Any = reader.metadata or {}
        title = str(info.get("/Title") or "").strip()
        date = iso_date(info.get("/CreationDate") or info.get("/ModDate") or "")
        if date:
            meta["date"] = date
        if str(info.get("/Author") or "").strip():
            meta["author"] = str(info.get("/Author")).strip()
    except Exception:  # pypdf raises on malformed info dictionaries; the text is what matters
        title = ""
    if not title or title.lower().endswith((".doc", ".docx", ".pdf", ".odt")) or title.lower() == "untitled":
        title = first_heading(text)
    return title, text, meta


_SENTENCE_END = re.compile(r"[.!?:;…\"”’)\]]$")


def join_wrapped_lines(text: str) -> str:
    """Join the hard line breaks a PDF puts inside sentences; paragraph breaks, headings and list items stay.

    A line break is joined when the line before does not end a sentence and either the next line
    starts in lower case or the line before is long (wrapped at the page width, not a short heading).
    """
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    width = max(len(line) for line in lines)
    out = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        if (
            prev.strip() and line.strip()
            and not _SENTENCE_END.search(prev.rstrip())
            and not re.match(r"\s*(?:[-*•]|\d+[.)])\s", line)
            and (line.lstrip()[:1].islower() or len(prev) >= 0.6 * width)
        ):
            if prev.endswith("-") and prev[-2:-1].isalpha() and line.lstrip()[:1].islower():
                out[-1] = prev[:-1] + line.lstrip()  # a word hyphenated across the break
            else:
                out[-1] = prev.rstrip() + " " + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)


def first_heading(text: str) -> str:
    """The first line of a text when it reads as a heading (short, no closing full stop), else ''."""
    for line in text.split("\n"):
        line = line.strip()
        if line:
            return line if len(line) <= 150 and not line.endswith((".", "!", "?")) else ""
    return ""
