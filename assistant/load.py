"""Files -> Document: txt, md (front matter), html (article extraction), pdf; bad files rejected clearly."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.types import Document

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = 20 * 1024 * 1024
_EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa", b"#!")
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
        raise LoadError("file not found")
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
        raise LoadError(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")


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
        if any(head.startswith(m) for m in _BINARY_MAGIC) or b"\x00" in data[:8192]:
            raise LoadError("binary file, not text")
        raw = decode_text(data)
        if suffix in (".html", ".htm"):
            title, text, meta = _parse_html(raw)
        elif suffix in (".md", ".markdown"):
            title, text, meta = _parse_markdown(raw)
        else:
            title, text, meta = _parse_text(raw)
    text = normalize_text(text)
    if len(re.findall(r"\w+", text)) < 3:
        raise LoadError("no readable text (fewer than 3 words)")
    title = title.strip() or Path(doc_id).stem.replace("-", " ").replace("_", " ")
    digest = hashlib.sha256(text.encode("utf-8") + b"\x00" + repr(sorted(meta.items())).encode()).hexdigest()
    return Document(doc_id=doc_id, source=source, title=title, text=text, content_hash=digest, metadata=meta)


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
    body = post.content
    if not title:
        heading = re.search(r"^#\s+(.+)$", body, re.M)
        title = heading.group(1) if heading else ""
    return title, body, meta


def _parse_html(raw: str) -> tuple[str, str, dict[str, str]]:
    import trafilatura

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
        pages = [normalize_text(page.extract_text() or "") for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many error types on corrupt files
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from None
    starts: list[str] = []
    parts: list[str] = []
    offset = 0
    for page in pages:
        starts.append(str(offset))
        parts.append(page)
        offset += len(page) + 2
    text = "\n\n".join(parts)
    if not text.strip():
        raise LoadError("PDF has no extractable text (scanned images?)")
    title = ""
    try:
        title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except Exception:
        title = ""
    return title, text, {"page_starts": ",".join(starts), "pages": str(len(pages))}
