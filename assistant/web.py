"""The Gradio web chat: `create_app()` builds it, `serve()` runs it. A thin adapter over Assistant."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no calls home

import html
import ipaddress
import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Assistant, QuestionError
from assistant.dates import human_date
from assistant.ingest import UPLOADS
from assistant.load import SUPPORTED, LoadError, check_file
from assistant.provenance import as_of_line
from assistant.settings import Settings, SettingsError
from assistant.store import StoreError
from assistant.types import Answer

THEME = gr.themes.Default(font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                          font_mono=["ui-monospace", "Consolas", "monospace"])
CSS = """
.cite a { text-decoration: none; font-weight: 600; }
.refusal { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f; padding: .4em .7em; border-radius: 4px; }
.searched, .note, .changes, .asof { color: #6b7280; font-size: .85em; margin-top: .4em; }
.status { color: #6b7280; font-style: italic; }
#sources { max-height: 680px; overflow-y: auto; }
.src { border: 1px solid #e5e7eb; border-radius: 6px; padding: .5em .7em; margin-bottom: .6em; scroll-margin-top: 8px; }
.src.active { border-color: #2563eb; box-shadow: 0 0 0 2px #bfdbfe; }
.src-meta { color: #6b7280; font-size: .85em; }
.src blockquote { margin: .4em 0; white-space: pre-wrap; font-size: .92em; }
.src mark { background: #fde68a; }
.article { max-height: 320px; overflow-y: auto; white-space: pre-wrap; font-size: .9em; border-top: 1px dashed #d1d5db; }
"""
HEAD = """<script>
window.assistantShowCite = function () {
  const el = window.assistantCite && document.getElementById(window.assistantCite);
  if (!el) return;
  document.querySelectorAll('.src.active').forEach((e) => e.classList.remove('active'));
  el.classList.add('active');
  el.scrollIntoView({block: 'nearest'});
};
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href^="#src-"]');
  if (a) { ev.preventDefault(); window.assistantCite = a.getAttribute('href').slice(1); window.assistantShowCite(); }
}, true);
document.addEventListener('toggle', (ev) => {
  const mark = ev.target.open && ev.target.querySelector && ev.target.querySelector('.article mark');
  if (mark) mark.scrollIntoView({block: 'center'});
}, true);
</script>"""
SHOW_CITE_JS = "() => { setTimeout(() => window.assistantShowCite && window.assistantShowCite(), 50); }"
MAX_ARTICLE_CHARS = 200_000
QUESTION_WORKERS = 4  # questions answered at once (the answer path is thread-safe)
log = logging.getLogger(__name__)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~$])")
_MARKER = re.compile(r"\\\[(\d+)\\\]")


def _md_text(text: str) -> str:
    """Escape untrusted text for the chatbot's Markdown+HTML renderer."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


def render_message(ans: dict[str, Any], turn: int) -> str:
    """Chat message for one answer: escaped text, [n] as footnote links, refusal and notes styled."""
    known = {c["n"] for c in ans["citations"]}

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<sup class="cite"><a href="#src-{turn}-{n}">[{n}]</a></sup>' if n in known else m.group(0)

    body = _MARKER.sub(link, _md_text(ans["answer"]))
    if ans["refused"]:
        body = f'<div class="refusal">\n\n{body}\n\n</div>'
    if ans.get("standalone_question"):
        body += f'\n\n<div class="searched">Searched for: {html.escape(ans["standalone_question"])}</div>'
    if ans.get("as_of") and not ans["refused"]:
        line = as_of_line(ans["as_of"], len({c["doc_id"] for c in ans["citations"]}))
        body += f'\n\n<div class="asof">{html.escape(line)}</div>'
    for note in ans.get("notes") or []:
        body += f'\n\n<div class="note">{html.escape(note)}</div>'
    changes = ans.get("changes") or []
    if changes:  # what the verifier did to the model's draft (sentences removed, citations re-pointed)
        items = "".join(f"<li>{html.escape(c)}</li>" for c in changes)
        body += (f'\n\n<details class="changes"><summary>Checked by the verifier: {len(changes)} change(s)</summary>'
                 f"<ul>{items}</ul></details>")
    return f'<div class="answer">\n\n{body}\n\n</div>'


def _marked(text: str, start: int, end: int) -> str:
    """HTML-escape text with text[start:end] wrapped in <mark>."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    return f"{html.escape(text[:start])}<mark>{html.escape(text[start:end])}</mark>{html.escape(text[end:])}"


def render_sources(assistant: Assistant, ans: dict[str, Any] | None, turn: int) -> str:
    """Sources panel: each cited passage with its quote highlighted, and the whole article on demand."""
    if not ans or not ans["citations"]:
        return '<p class="status">Sources of the selected answer appear here.</p>'
    records = assistant.store.records()
    passages = {p["chunk_id"]: p for p in ans.get("passages") or []}
    texts: dict[str, str | None] = {}
    parts = []
    for c in ans["citations"]:
        record = records.get(c["doc_id"])
        meta = record.metadata if record else {}
        facts = [meta.get("outlet", ""), meta.get("section", ""), human_date(meta.get("date")), Path(c["source"]).name]
        p = passages.get(c["chunk_id"])
        if p and p["start"] <= c["start"] and c["end"] <= p["end"]:
            passage = _marked(p["text"], c["start"] - p["start"], c["end"] - p["start"])
        else:
            passage = f"<mark>{html.escape(c['quote'])}</mark>"
        if c["doc_id"] not in texts:
            texts[c["doc_id"]] = assistant.store.doc_text(c["doc_id"])
        full = texts[c["doc_id"]] or ""
        lo = max(0, min(c["start"] - MAX_ARTICLE_CHARS // 2, len(full) - MAX_ARTICLE_CHARS))
        window = full[lo : lo + MAX_ARTICLE_CHARS]
        article = _marked(window, c["start"] - lo, c["end"] - lo)
        article = ("…" if lo else "") + article + ("…" if lo + len(window) < len(full) else "")
        parts.append(
            f'<div class="src" id="src-{turn}-{c["n"]}"><div><b>[{c["n"]}]</b> {html.escape(c["title"])}</div>'
            f'<div class="src-meta">{html.escape(" · ".join(f for f in facts if f))}{_link(meta.get("url"))}</div>'
            f"{_also_in(c.get('also_in') or [])}"
            f"<blockquote>{passage}</blockquote>"
            f'<details><summary>Open article</summary><div class="article">{article}</div></details></div>'
        )
    return "".join(parts)


def safe_url(url: str | None) -> str | None:
    """An article URL fit for a link: http(s) only, else None."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s\"'<>]+$", url) else None


def _link(url: str | None) -> str:
    safe = safe_url(url)
    if not safe:
        return ""
    href = html.escape(safe, quote=True)
    return f' · <a class="src-url" href="{href}" target="_blank" rel="noopener noreferrer">{html.escape(safe)}</a>'


def _also_in(copies: Sequence[dict[str, str]]) -> str:
    if not copies:
        return ""
    names = "; ".join(
        (c.get("outlet") or c["doc_id"]) + (f" ({human_date(c.get('date'))})" if c.get("date") else "") for c in copies
    )
    return f'<div class="src-meta also-in">Also carried by: {html.escape(names)}</div>'


LIST_LIMIT = 1000  # rows of the library table and choices of the article filter sent to the page


LIBRARY_HEADERS = ["Title", "Outlet", "Date", "Link", "Chunks", "File"]


def library_rows(assistant: Assistant) -> list[list[Any]]:
    """Rows of the library table: title, outlet, date, link, chunks (a syndicated copy: "copy"), file."""
    records = sorted(assistant.store.records().values(), key=lambda r: r.title.lower())[:LIST_LIMIT]
    rows = []
    for r in records:
        url = safe_url(r.metadata.get("url"))
        link = f"[{_md_text(url)}]({url.replace('(', '%28').replace(')', '%29')})" if url else ""
        chunks: Any = r.n_chunks if not r.metadata.get("copy_of") else f"copy of {r.metadata['copy_of']}"
        rows.append([_md_text(r.title), r.metadata.get("outlet", ""), r.metadata.get("date", ""), link, chunks,
                     Path(r.source).name])
    return rows


def outlet_choices(assistant: Assistant) -> list[str]:
    """Every outlet named by an article of the library, for the outlet filter."""
    from assistant.retrieve import resolve_scope
    from assistant.types import Filters

    return list(resolve_scope(assistant.store.records(), Filters()).outlets)


def library_label(assistant: Assistant) -> str:
    """The library's size, and how much of it the table shows."""
    n = len(assistant.store.records())
    shown = f"; the table and the article filter show the first {LIST_LIMIT:,} by title" if n > LIST_LIMIT else ""
    return f"{n:,} article{'s' if n != 1 else ''} in the library{shown}."


def doc_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the article filter (the first LIST_LIMIT by title)."""
    pairs = ((r.title or r.doc_id, r.doc_id) for r in assistant.store.records().values())
    return sorted(pairs, key=lambda t: t[0].lower())[:LIST_LIMIT]


def safe_filename(name: str) -> str:
    """A safe file name from a client-supplied one: base name only, plain characters, known suffix kept."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:80] or "upload"
    return f"{stem}{suffix}"


def save_upload(assistant: Assistant, path: Path, progress: Any = None, *, replace: bool = False) -> str:
    """Keep an uploaded file under uploads_dir and ingest it as `uploads/<name>`; returns a status line.

    An upload never replaces a corpus document (its id is in the `uploads/` namespace). When an
    upload of that name exists with other content, `replace=True` replaces it; otherwise both are
    kept, the new one under a numbered name. Raises LoadError for a bad file (nothing is kept).
    """
    settings = assistant.settings
    name = safe_filename(path.name)
    suffix = Path(name).suffix
    check_file(suffix, path.stat().st_size, settings.max_file_bytes)
    data = path.read_bytes()
    with assistant.store.writer("upload"):  # one writer at a time: ingests, uploads and deletes queue here
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        target, i = settings.uploads_dir / name, 1
        while not replace and target.exists() and target.read_bytes() != data:
            target, i = settings.uploads_dir / f"{Path(name).stem}-{i}{suffix}", i + 1
        old = target.read_bytes() if target.exists() else None
        target.write_bytes(data)

        def undo() -> None:
            if old is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(old)

        try:
            report = assistant.ingest([target], progress=progress, show_progress=False)
        except BaseException:
            undo()
            raise
        if report.skipped:
            undo()
            raise LoadError(report.skipped[0]["reason"])
    verb = "added" if report.added else "replaced" if report.updated else "already in the library"
    kept = f" (an upload named {name} exists; kept both)" if target.name != name else ""
    return f"{target.name}: {verb}{kept}; it can be asked about now."


def upload_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """(label, doc_id) of the uploaded documents, for the Library tab's delete control."""
    rows = [(f"{r.title} ({Path(r.source).name})", r.doc_id) for r in assistant.store.records().values()
            if r.doc_id.startswith(UPLOADS)]
    return sorted(rows, key=lambda t: t[0].lower())[:LIST_LIMIT]


def _history(turns: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(t["question"], t["answer"]) for t in turns]


def _parse_history(history: Any) -> list[tuple[str, str]]:
    """API history: JSON text or a list of [question, answer] pairs or of {role, content} messages."""
    if isinstance(history, str):
        history = json.loads(history) if history.strip() else []
    pairs: list[tuple[str, str]] = []
    question = None
    for item in history or []:
        if isinstance(item, dict):
            if item.get("role") == "user":
                question = str(item.get("content", ""))
            elif item.get("role") == "assistant" and question is not None:
                pairs.append((question, str(item.get("content", ""))))
                question = None
        else:
            q, a = item
            pairs.append((str(q), str(a)))
    return pairs


def create_app(assistant: Assistant) -> gr.Blocks:
    """Build the web chat over an Assistant (does not serve it; see `launch`)."""
    settings = assistant.settings
    # Questions are answered QUESTION_WORKERS at a time; uploads and deletes queue on their own, one at a
    # time, so a long upload never holds up a question (and a question never holds up an upload).
    questions: dict[str, Any] = {"concurrency_id": "questions", "concurrency_limit": QUESTION_WORKERS}
    writes: dict[str, Any] = {"concurrency_id": "writes", "concurrency_limit": 1}

    def respond(message: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]], top_k: int,
                doc_ids: list[str] | None, outlets: list[str] | None = None, since: str = "",
                until: str = "") -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat."""
        turn = len(turns)
        chat = [*chat, {"role": "user", "content": _md_text(message)},
                {"role": "assistant", "content": '<span class="status">Searching the articles and verifying citations…</span>'}]
        yield chat, turns, gr.skip(), ""
        draft, final = "", None
        try:
            for event in assistant.stream(message, _history(turns), doc_ids=doc_ids or None, top_k=int(top_k),
                                          sources=outlets or None, since=(since or "").strip() or None,
                                          until=(until or "").strip() or None):
                if isinstance(event, Answer):
                    final = event
                    break
                draft += event
                chat[-1] = {"role": "assistant", "content": _md_text(draft)
                            + '\n\n<span class="status">Draft: checking every citation against the articles…</span>'}
                yield chat, turns, gr.skip(), ""
        except QuestionError as exc:
            gr.Warning(str(exc))
            yield chat[:-2], turns, gr.skip(), message
            return
        except StoreError as exc:  # e.g. the Chroma server is down: say so, keep the question for a retry
            yield chat[:-2], turns, gr.skip(), message
            raise gr.Error(str(exc)) from None
        assert final is not None
        ans = final.to_dict()
        turns = [*turns, ans]
        chat[-1] = {"role": "assistant", "content": render_message(ans, turn)}
        yield chat, turns, render_sources(assistant, ans, turn), ""

    def regenerate(chat: list[dict[str, Any]], turns: list[dict[str, Any]], top_k: int,
                   doc_ids: list[str] | None, outlets: list[str] | None = None, since: str = "",
                   until: str = "") -> Iterator[tuple[Any, ...]]:
        """Ask the last question again."""
        if not turns:
            yield chat, turns, gr.skip(), ""
            return
        yield from respond(turns[-1]["question"], chat[:-2], turns[:-1], top_k, doc_ids, outlets, since, until)

    def select(turns: list[dict[str, Any]], evt: gr.SelectData) -> str:
        """Show the sources of the clicked answer."""
        turn = int(evt.index if isinstance(evt.index, int) else evt.index[0]) // 2
        return render_sources(assistant, turns[turn], turn) if 0 <= turn < len(turns) else gr.skip()

    def upload(file: str | None, replace: bool = False, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Save and ingest one uploaded article (replace: replace an upload of the same name)."""
        if not file:
            return "Choose a file first.", gr.skip(), gr.skip(), gr.skip(), None, gr.skip(), gr.skip()
        try:
            status = save_upload(assistant, Path(file), lambda d, t, n: progress((d, max(t, 1)), desc=f"ingesting {n}"),
                                 replace=bool(replace))
        except LoadError as exc:
            return f"Not added: {exc}", gr.skip(), gr.skip(), gr.skip(), None, gr.skip(), gr.skip()
        return (status, library_label(assistant), library_rows(assistant), gr.update(choices=doc_choices(assistant)), None,
                gr.update(choices=outlet_choices(assistant)), gr.update(choices=upload_choices(assistant), value=None))

    def delete(doc_id: str | None) -> tuple[Any, ...]:
        """Delete one uploaded document (record, chunks, BM25 rows and file)."""
        if not doc_id:
            return "Choose an uploaded article to delete.", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            gone = assistant.delete_upload(str(doc_id))
        except ValueError as exc:
            return f"Not deleted: {exc}", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        status = f"Deleted {doc_id}." if gone else f"{doc_id} is not in the library."
        return (status, library_label(assistant), library_rows(assistant), gr.update(choices=doc_choices(assistant)),
                gr.update(choices=upload_choices(assistant), value=None))

    def ask(question: str, history: list[Any] | str | None = None, doc_ids: list[str] | None = None,
            sources: list[str] | None = None, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        """Answer a question (optionally with earlier [question, answer] pairs, a document, outlet and date filter)."""
        try:
            return assistant.answer(question, _parse_history(history), doc_ids=doc_ids or None, sources=sources or None,
                                    since=since or None, until=until or None).to_dict()
        except (QuestionError, StoreError, ValueError) as exc:
            log.warning("/ask refused: %s", exc)  # one line, no traceback: the caller gets the message
            raise gr.Error(str(exc), print_exception=False) from None

    described = settings.describe()
    with gr.Blocks(title="Article assistant", analytics_enabled=False) as app:
        gr.Markdown("## Article assistant\nAnswers come only from the articles in the library, with checked [n] citations.")
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Chat", height=560, buttons=["copy", "copy_all"], elem_id="chat",
                                             feedback_options=None, placeholder="Ask a question about the articles.")
                        box = gr.Textbox(show_label=False, placeholder="Ask about the articles…", elem_id="question",
                                         submit_btn=True)
                        with gr.Row():
                            regen_btn = gr.Button("Regenerate", size="sm", elem_id="regenerate")
                            clear_btn = gr.Button("Clear chat", size="sm", elem_id="clear")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render_sources(assistant, None, 0), elem_id="sources")
            with gr.Tab("Library"):
                size = gr.Markdown(library_label(assistant), elem_id="library-size")
                table = gr.Dataframe(library_rows(assistant), headers=LIBRARY_HEADERS,
                                     datatype=["markdown", "str", "str", "markdown", "str", "str"],
                                     interactive=False, elem_id="library", wrap=True,
                                     column_widths=["34%", "14%", "10%", "18%", "8%", "16%"])
                upload_file = gr.File(label="Add an article (" + ", ".join(SUPPORTED) + ")", file_types=list(SUPPORTED),
                                      type="filepath", elem_id="upload")
                replace_box = gr.Checkbox(False, label="Replace an upload with the same name (otherwise both are kept)",
                                          elem_id="upload-replace")
                upload_status = gr.Markdown(elem_id="upload-status")
                with gr.Row():
                    delete_choice = gr.Dropdown(upload_choices(assistant), label="Uploaded article", value=None,
                                                elem_id="delete-choice", scale=3)
                    delete_btn = gr.Button("Delete upload", variant="stop", elem_id="delete-upload", scale=1)
            with gr.Tab("Settings"):
                gr.Markdown("\n".join(f"- **{k}**: `{v}`" for k, v in described.items()), elem_id="backend")
                top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
                docs = gr.Dropdown(doc_choices(assistant), multiselect=True, label="Search only these articles (empty: all)")
                outlets = gr.Dropdown(outlet_choices(assistant), multiselect=True, elem_id="outlet-filter",
                                      label="Search only these outlets (empty: all)")
                with gr.Row():
                    since = gr.Textbox("", label="Published on or after (YYYY-MM-DD)", elem_id="since", max_lines=1)
                    until = gr.Textbox("", label="Published on or before (YYYY-MM-DD)", elem_id="until", max_lines=1)

        chat_outputs = [chatbot, turns, sources, box]
        filters = [top_k, docs, outlets, since, until]
        box.submit(respond, [box, chatbot, turns, *filters], chat_outputs, api_name="chat", **questions).then(
            None, js=SHOW_CITE_JS, api_visibility="private")
        regen_btn.click(regenerate, [chatbot, turns, *filters], chat_outputs, api_name="regenerate", **questions)
        clear_btn.click(lambda: ([], [], render_sources(assistant, None, 0), ""), None, chat_outputs,
                        api_visibility="private")
        chatbot.select(select, [turns], sources, api_visibility="private").then(None, js=SHOW_CITE_JS, api_visibility="private")
        upload_file.upload(upload, [upload_file, replace_box],
                           [upload_status, size, table, docs, upload_file, outlets, delete_choice], api_name="upload", **writes)
        delete_btn.click(delete, [delete_choice], [upload_status, size, table, docs, delete_choice], api_name="delete",
                         **writes)
        gr.api(ask, api_name="ask", **questions)
    app.max_upload_bytes = settings.max_file_bytes  # type: ignore[attr-defined]  # read by launch()
    return app


def auth_from_env(env: dict[str, str] | None = None) -> list[tuple[str, str]] | None:
    """Logins from ASSISTANT_AUTH, read through Settings ("user:password", several separated by commas), or None."""
    return Settings.from_env(env).logins


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, auth: list[tuple[str, str]] | None, allow_anonymous: bool) -> None:
    """Refuse to serve a non-loopback address without logins unless anonymous access is asked for."""
    if not is_loopback(host) and not auth and not allow_anonymous:
        raise SettingsError(
            f"refusing to serve on {host} without a login: anyone who can reach it could read the library, "
            "ask questions and upload files. Set ASSISTANT_AUTH='user:password' to require a login, "
            "or pass --allow-anonymous to serve it open on purpose."
        )


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, *, auth: list[tuple[str, str]] | None = None,
           open_browser: bool = False, max_file_size: int | None = None) -> gr.Blocks:
    """Serve a built app (no share link, local fonts, optional login); returns once it is serving.

    `max_file_size` (bytes, default: the app's Settings.max_file_bytes) makes Gradio refuse a larger
    upload while it is received, before anything is stored.
    """
    limit = max_file_size if max_file_size is not None else getattr(app, "max_upload_bytes", None)
    app.queue(default_concurrency_limit=1)
    app.launch(server_name=host, server_port=port, share=False, inbrowser=open_browser, auth=auth,
               auth_message="Log in with a user from ASSISTANT_AUTH." if auth else None, theme=THEME, css=CSS, head=HEAD,
               footer_links=["api"], prevent_thread_lock=True, show_error=True, quiet=True, max_file_size=limit)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, open_browser: bool = True, *,
          allow_anonymous: bool = False) -> int:
    """Build the Assistant, ingest corpus/ on first start (with progress), and serve the chat until stopped.

    A non-loopback `host` needs ASSISTANT_AUTH or `allow_anonymous` (SettingsError otherwise).
    """
    auth = settings.logins
    check_exposure(host, auth, allow_anonymous)
    assistant = Assistant(settings)

    def show(done: int, total: int, name: str) -> None:
        if done == 0:
            print(f"First start: ingesting {settings.corpus_dir} …", flush=True)  # noqa: T201
        print(f"  [{done}/{total}] {name}", flush=True)  # noqa: T201

    report = assistant.ensure_ingested(progress=show)
    if report is not None:
        print(f"Ingested: added {report.added}, skipped {len(report.skipped)}; {report.chunks_total} chunks.", flush=True)  # noqa: T201
    print(f"Backend: {settings.describe()['llm']}; login {'required' if auth else 'off'}.", flush=True)  # noqa: T201
    app = launch(create_app(assistant), host, port, auth=auth, open_browser=open_browser)
    print(f"Serving on http://{host}:{port} (Ctrl-C stops it).", flush=True)  # noqa: T201
    # Load the BM25 index once the page is served, not while it starts (it would compete for the GIL).
    threading.Thread(target=assistant.retriever.sync, name="bm25-warm-up", daemon=True).start()
    app.block_thread()
    return 0
