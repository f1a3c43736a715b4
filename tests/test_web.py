"""The web chat against a real Gradio server, the real model and real Chroma, called with gradio_client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, SEED, free_port

gradio_client = pytest.importorskip("gradio_client")


class Server:
    """A launched app with its Assistant."""

    def __init__(self, app: Any, assistant: Any, url: str) -> None:
        self.app, self.assistant, self.url = app, assistant, url

    def client(self, **kwargs: Any) -> Any:
        return gradio_client.Client(self.url, verbose=False, **kwargs)


def start(assistant: Any, auth: list[tuple[str, str]] | None = None) -> Server:
    from assistant import web

    app = web.create_app(assistant)
    port = free_port()
    web.launch(app, "127.0.0.1", port, auth=auth)
    return Server(app, assistant, f"http://127.0.0.1:{port}/")


@pytest.fixture(scope="module")
def server(embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings

    assistant = Assistant(Settings(data_dir=tmp_path_factory.mktemp("web") / "data", corpus_dir=CORPUS), embedder=embedder)
    assistant.ensure_ingested()
    srv = start(assistant)
    yield srv
    srv.app.close()


def test_ask_endpoint_answers_with_a_verbatim_citation(server: Server) -> None:
    result = server.client().predict("Who did Trump send to Moscow?", api_name="/ask")
    assert not result["refused"]
    assert "Witkoff" in result["answer"]
    seed = SEED.read_text(encoding="utf-8")
    assert result["citations"], result
    assert any(c["quote"] in seed and "Witkoff" in c["quote"] for c in result["citations"])
    assert set(result) >= {"answer", "refused", "citations", "standalone_question", "backend", "notes", "passages"}
    assert result == server.assistant.answer("Who did Trump send to Moscow?").to_dict() | {"timings": result["timings"]}


def test_ask_endpoint_uses_history_json(server: Server) -> None:
    first = server.client().predict("Who did Trump send to Moscow?", api_name="/ask")
    history = f'[["Who did Trump send to Moscow?", {first["answer"]!r}]]'.replace("'", '"')
    result = server.client().predict("How long did their talks last?", history, api_name="/ask")
    assert "five hours" in result["answer"]
    assert result["standalone_question"]


def test_ask_endpoint_rejects_empty_question(server: Server) -> None:
    with pytest.raises(Exception, match="empty"):
        server.client().predict("   ", api_name="/ask")


def test_ask_endpoint_doc_filter(server: Server) -> None:
    with pytest.raises(Exception, match=r"unknown document id 'nonexistent\.md'.*assistant ingest --json"):
        server.client().predict("Who did Trump send to Moscow?", None, ["nonexistent.md"], api_name="/ask")
    result = server.client().predict("Who did Trump send to Moscow?", None, [SEED.name], api_name="/ask")
    assert not result["refused"] and {p["doc_id"] for p in result["passages"]} == {SEED.name}


def test_api_names_are_explicit(server: Server) -> None:
    info = server.client().view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask", "/chat", "/delete", "/regenerate", "/upload"}
    assert not info["unnamed_endpoints"]


def test_bad_uploads_leave_the_library_unchanged(server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file

    before = dict(server.assistant.store.records())
    uploads = server.assistant.settings.uploads_dir
    files_before = sorted(uploads.iterdir()) if uploads.exists() else []
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "blank.txt").write_text("  \n\n ", encoding="utf-8")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    (tmp_path / "fake.txt").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    client = server.client()
    for name in ("empty.md", "blank.txt", "fake.txt"):
        status = client.predict(handle_file(str(tmp_path / name)), False, api_name="/upload")[0]
        assert status.startswith("Not added:"), (name, status)
    with pytest.raises(Exception, match="(?i)invalid file type"):
        client.predict(handle_file(str(tmp_path / "tool.exe")), False, api_name="/upload")
    assert server.assistant.store.records() == before
    assert (sorted(uploads.iterdir()) if uploads.exists() else []) == files_before


def test_upload_is_answerable_at_once(server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file

    article = tmp_path / "evil name?.md"
    article.write_text(
        "---\ntitle: Lake Vostok Ferry\ndate: 2031-04-02\n---\n\n"
        "The ferry across Lake Vostok carried exactly 4,812 passengers on its maiden voyage, its captain Ilse Marrow said.\n",
        encoding="utf-8",
    )
    client = server.client()
    status, size, table, *_ = client.predict(handle_file(str(article)), False, api_name="/upload")
    assert "added" in status, status
    assert size.startswith("2 articles in the library"), size
    saved = server.assistant.settings.uploads_dir / "evil-name.md"
    assert saved.exists()
    assert any(row[0] == "Lake Vostok Ferry" for row in table["data"])
    result = client.predict("How many passengers did the Lake Vostok ferry carry?", api_name="/ask")
    assert "4,812" in result["answer"]
    assert any(c["doc_id"] == "uploads/evil-name.md" and c["quote"] in saved.read_text() for c in result["citations"])


def test_upload_named_like_a_corpus_article_leaves_it_untouched(server: Server, tmp_path: Path) -> None:
    """Uploads live under `uploads/`: a namesake of a corpus article is a new document, never a replacement."""
    from gradio_client import handle_file

    store = server.assistant.store
    seed_id = SEED.name
    before = store.records()[seed_id]
    seed_chunks = sorted(c.chunk_id for c in store.chunks_of([seed_id]))
    namesake = tmp_path / SEED.name
    namesake.write_text("---\ntitle: Harbour Notice\n---\n\nThe harbour of Vik closes for dredging on 3 May, the port "
                        "authority said in a notice to 61 fishing crews.\n", encoding="utf-8")
    client = server.client()
    status = client.predict(handle_file(str(namesake)), False, api_name="/upload")[0]
    assert status.startswith(f"{SEED.name}: added"), status
    records = store.records()
    assert records[seed_id] == before and records[f"uploads/{SEED.name}"].title == "Harbour Notice"
    assert sorted(c.chunk_id for c in store.chunks_of([seed_id])) == seed_chunks
    got = client.predict("What did the Kremlin aide Yuri Ushakov say?", api_name="/ask")
    assert got["passages"] and {p["doc_id"] for p in got["passages"][:3]} == {seed_id}, got["passages"][:3]

    # the same name again with other content: both kept (API default), or replaced with replace=True
    namesake.write_text("---\ntitle: Harbour Notice\n---\n\nThe harbour of Vik reopens on 9 June after dredging, the "
                        "port authority told 61 fishing crews.\n", encoding="utf-8")
    status = client.predict(handle_file(str(namesake)), False, api_name="/upload")[0]
    stem = SEED.name.removesuffix(".md")
    assert status.startswith(f"{stem}-1.md: added") and "kept both" in status, status
    namesake.write_text("---\ntitle: Harbour Notice\n---\n\nThe harbour of Vik stays closed until July, the port "
                        "authority told 61 fishing crews.\n", encoding="utf-8")
    status = client.predict(handle_file(str(namesake)), True, api_name="/upload")[0]
    assert status.startswith(f"{SEED.name}: replaced"), status
    records = store.records()
    assert records[seed_id] == before and f"uploads/{stem}-1.md" in records
    assert "July" in (store.doc_text(f"uploads/{SEED.name}") or "")

    # deleting the uploads removes them (record, chunks, file) and leaves the corpus article alone
    for doc_id in (f"uploads/{SEED.name}", f"uploads/{stem}-1.md"):
        status = client.predict(doc_id, api_name="/delete")[0]
        assert status == f"Deleted {doc_id}.", status
        assert doc_id not in store.records() and not list(store.chunks_of([doc_id]))
    assert not (server.assistant.settings.uploads_dir / SEED.name).exists()
    assert store.records()[seed_id] == before
    with pytest.raises(Exception, match="not in the list of choices"):  # only uploads can be named
        client.predict(seed_id, api_name="/delete")
    with pytest.raises(ValueError, match="not an upload"):
        server.assistant.delete_upload(seed_id)
    assert store.records()[seed_id] == before


def test_large_libraries_send_a_bounded_list_to_the_page(make_assistant, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A 15k-article library must not put 15k rows and choices into every page load."""
    from assistant import web
    from benchmarks.corpus_gen import generate

    corpus = tmp_path / "articles"
    generate(corpus, 5)
    bot = make_assistant(corpus_dir=corpus)
    bot.ingest(show_progress=False)
    monkeypatch.setattr(web, "LIST_LIMIT", 3)
    assert len(web.library_rows(bot)) == len(web.doc_choices(bot)) == 3
    assert web.library_label(bot) == "5 articles in the library; the table and the article filter show the first 3 by title."


def test_safe_filename() -> None:
    from assistant.web import safe_filename

    assert safe_filename("../../etc/passwd.md") == "passwd.md"
    assert safe_filename("C:\\Users\\me\\My Article (1).HTML") == "My-Article-1.html"
    assert safe_filename("...md") == "upload.md"
    assert safe_filename(".bashrc") == "bashrc"


def test_render_escapes_untrusted_text() -> None:
    from assistant.web import render_message

    ans = {"answer": "<script>x()</script> **bold** [1] [9]", "refused": False, "standalone_question": None, "notes": [],
           "citations": [{"n": 1}]}
    out = render_message(ans, 3)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert '<a href="#src-3-1">[1]</a>' in out and "#src-3-9" not in out
    assert "\\*\\*bold" in out


def test_render_shows_the_verifier_changes() -> None:
    from assistant.web import render_message

    ans = {"answer": "Talks lasted five hours [1].", "refused": False, "standalone_question": None, "notes": [],
           "citations": [{"n": 1}], "changes": ["removed unsupported sentence 2 (“<b>caviar</b>”)",
                                                 "sentence 1: cited “Putin” (seed#2) instead"]}
    out = render_message(ans, 1)
    assert "Checked by the verifier: 2 change(s)" in out
    assert "removed unsupported sentence 2" in out and "&lt;b&gt;caviar" in out and "<b>caviar" not in out
    assert "instead" in out
    assert "Checked by the verifier" not in render_message({**ans, "changes": []}, 1)


def test_auth_rejects_unauthenticated_api_use(embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings
    from assistant.web import auth_from_env

    monkeypatch.setenv("ASSISTANT_AUTH", "ana:s3cret, bob:hunter2")
    auth = auth_from_env()
    assert auth == [("ana", "s3cret"), ("bob", "hunter2")]
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS), embedder=embedder)
    assistant.ensure_ingested()
    srv = start(assistant, auth=auth)
    try:
        import httpx

        assert httpx.get(srv.url + "config", timeout=30).status_code in (401, 403)
        with pytest.raises(Exception):
            srv.client().predict("Who did Trump send to Moscow?", api_name="/ask")
        with pytest.raises(Exception):
            srv.client(auth=("ana", "wrong")).predict("Who did Trump send to Moscow?", api_name="/ask")
        t0 = time.time()
        result = srv.client(auth=("bob", "hunter2")).predict("Who did Trump send to Moscow?", api_name="/ask")
        assert "Witkoff" in result["answer"], time.time() - t0
    finally:
        srv.app.close()


def test_auth_from_env_rejects_malformed_value() -> None:
    from assistant.settings import SettingsError
    from assistant.web import auth_from_env

    assert auth_from_env({}) is None
    with pytest.raises(SettingsError, match="user:password"):
        auth_from_env({"ASSISTANT_AUTH": "justaname"})


def test_llm_backend_streams_a_draft_then_the_verified_answer(make_assistant) -> None:  # type: ignore[no-untyped-def]
    import re

    from scripted_llm import Reply, ScriptedLLM

    def respond(body: dict[str, Any]) -> Reply:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        blocks = re.findall(r"^\[(\d+)\] from \"[^\n]*\n(`{3,})text\n(.*?)\n\2$", user, re.S | re.M)
        n = next(num for num, _, text in blocks if "five hours" in text)
        return Reply(f"Putin sent Trump's envoys home after five hours of talks in the Kremlin [{n}].", piece=8)

    llm = ScriptedLLM(respond)
    assistant = make_assistant(llm="openai", openai_base_url=llm.url, model="scripted", timeout=10.0)
    assistant.ensure_ingested()
    srv = start(assistant)
    try:
        job = srv.client().submit("How long did the talks in the Kremlin last?", [], 6, [], api_name="/chat")
        job.result(timeout=300)
        bot_texts = [out[0][-1]["content"] for out in job.outputs() if out and out[0]]
        flat = [t if isinstance(t, str) else " ".join(str(p.get("text", p)) for p in t) for t in bot_texts]
        assert any("checking every citation" in t for t in flat), flat
        assert "five hours" in flat[-1] and 'href="#src-0-1"' in flat[-1] and "checking every citation" not in flat[-1]
        assert len(llm.seen) >= 1
    finally:
        srv.app.close()
        llm.close()


def test_gradio_refuses_an_upload_over_the_size_limit_before_storing_it(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import handle_file

    from assistant import Assistant, Settings

    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS, max_file_bytes=64 * 1024),
                          embedder=embedder)
    srv = start(assistant)
    try:
        big = tmp_path / "big.md"
        big.write_text("# Big\n\n" + "The ferry left the harbour at dawn. " * 4000, encoding="utf-8")  # ~140 KB
        with pytest.raises(Exception, match="(?i)size|large|exceed"):
            srv.client().predict(handle_file(str(big)), False, api_name="/upload")
        assert not assistant.settings.uploads_dir.exists() or not any(assistant.settings.uploads_dir.iterdir())
        assert not assistant.store.records()
    finally:
        srv.app.close()
