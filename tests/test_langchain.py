"""LangChain parts: HybridRetriever, the answer Runnable, and LangChain's own standard test suites.

Real embedded model, real Chroma folder; the LLM path runs against the scripted OpenAI-compatible
server (real HTTP, chosen completions).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from assistant import Assistant, HybridRetriever, Settings
from assistant.embed import LocalEmbeddings
from tests.conftest import CORPUS, ROOT

MULTI = ROOT / "tests" / "fixtures" / "multi" / "articles"
METADATA = {"doc_id", "chunk_id", "title", "outlet", "date", "url", "start", "end", "score", "dense_rank", "bm25_rank"}


@functools.cache
def multi_bot() -> Assistant:
    """An Assistant over the five multi-article fixtures (built once; the standard suites need it at class level)."""
    data = _tmp("lc-multi-")
    bot = Assistant(Settings(data_dir=data, corpus_dir=MULTI), embedder=_embedder())
    bot.ensure_ingested()
    return bot


def _tmp(prefix: str) -> Path:
    """A temporary folder removed when the test process exits (the standard suites need stores at class level)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def _embedder() -> LocalEmbeddings:
    return LocalEmbeddings()


@pytest.fixture(scope="module")
def seed_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    bot = Assistant(Settings(data_dir=tmp_path_factory.mktemp("lc-seed"), corpus_dir=CORPUS), embedder=_embedder())
    bot.ensure_ingested()
    return bot


# -- LangChain's standard suites ---------------------------------------------------------------------


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"assistant": multi_bot(), "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "How much did the Harbor Bridge repair cost?"


class TestLocalEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[LocalEmbeddings]:
        return LocalEmbeddings


class TestLocalEmbeddingsStandard(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[LocalEmbeddings]:
        return LocalEmbeddings


# -- HybridRetriever -----------------------------------------------------------------------------------


def test_retriever_documents_carry_the_documented_metadata() -> None:
    bot = multi_bot()
    docs = bot.as_retriever(k=3).invoke("How much did the Harbor Bridge repair cost?")
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert all(METADATA <= set(d.metadata) for d in docs)
    top = docs[0].metadata
    assert top["doc_id"] == "harbor-bridge-reopens.md" and "48 million" in docs[0].page_content
    text = bot.store.doc_text(top["doc_id"])
    assert text is not None and text[top["start"] : top["end"]] == docs[0].page_content  # exact offsets
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    assert top["dense_rank"] or top["bm25_rank"]
    passages = bot.search("How much did the Harbor Bridge repair cost?", 3)
    assert [d.metadata["chunk_id"] for d in docs] == [p.chunk_id for p in passages]  # the same fused ranking


def test_retriever_respects_filters() -> None:
    bot = multi_bot()
    only = bot.as_retriever(k=6, doc_ids=["museum-roof.txt"])
    docs = only.invoke("How much did the Harbor Bridge repair cost?")
    assert docs and {d.metadata["doc_id"] for d in docs} == {"museum-roof.txt"}
    two = bot.as_retriever(doc_ids=["museum-roof.txt", "chess-final.md"]).invoke("Who won?", k=2)
    assert len(two) == 2 and {d.metadata["doc_id"] for d in two} <= {"museum-roof.txt", "chess-final.md"}
    with pytest.raises(ValueError, match="'nope.md'"):
        bot.as_retriever(doc_ids=["nope.md"]).invoke("Who won?")


NEWS = ROOT / "evals" / "news" / "articles"


@functools.cache
def news_bot() -> Assistant:
    bot = Assistant(Settings(data_dir=_tmp("lc-news-"), corpus_dir=NEWS), embedder=_embedder())
    bot.ensure_ingested()
    return bot


def test_retriever_news_metadata_and_outlet_date_filters() -> None:
    bot = news_bot()
    question = "How much did the maritime museum renovation cost?"
    docs = bot.as_retriever(k=4).invoke(question)
    assert docs[0].metadata["doc_id"] == "maritime-museum-reopens.md"
    assert docs[0].metadata["outlet"] == "Marrow Bay Chronicle" and docs[0].metadata["date"] == "2027-03-15"
    assert docs[0].metadata["url"] == "https://mbchronicle.example/2027/03/15/maritime-museum-reopens"
    gazette = bot.as_retriever(k=6, sources=["Marrow Bay Harbor Gazette"]).invoke(question)
    assert gazette and {d.metadata["outlet"] for d in gazette} == {"Marrow Bay Harbor Gazette"}
    dated = bot.as_retriever(k=6, since="2026-06-01", until="2026-12-31").invoke(question)
    assert dated and all("2026-06-01" <= d.metadata["date"] <= "2026-12-31" for d in dated)
    runnable = bot.as_runnable()
    ask = {"question": question, "sources": ["Marrow Bay Harbor Gazette"]}
    assert _same(runnable.invoke(ask), bot.answer(question, sources=["Marrow Bay Harbor Gazette"]).to_dict())
    none = runnable.invoke({"question": question, "since": "2030-01-01"})
    assert _same(none, bot.answer(question, since="2030-01-01").to_dict()) and none["refused"] and not none["passages"]


def test_retriever_async_and_batch() -> None:
    retriever = multi_bot().as_retriever(k=2)
    questions = ["How much did the Harbor Bridge repair cost?", "Who won the chess final?"]
    batched = retriever.batch(questions)
    assert [[d.id for d in docs] for docs in batched] == [[d.id for d in retriever.invoke(q)] for q in questions]
    assert [d.id for d in asyncio.run(retriever.ainvoke(questions[1]))] == [d.id for d in batched[1]]


def test_retriever_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module("assistant.answer")  # `assistant.answer` the attribute is the function
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CORPUS", str(MULTI))
    monkeypatch.setattr(module, "_DEFAULT", None)
    docs = HybridRetriever(k=4).invoke("Who won the chess final?")
    assert len(docs) == 4 and docs[0].metadata["doc_id"] == "chess-final.md"


def test_user_chain_composes_our_retriever() -> None:
    """The README's example: our retriever in a user's own LCEL chain (a fake model stands in for theirs)."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough

    seen: list[Any] = []
    model = FakeListChatModel(responses=["It cost 48 million dollars [1]."])
    prompt = ChatPromptTemplate.from_template("Answer from these passages:\n{context}\n\nQuestion: {question}")

    def fmt(docs: list[Document]) -> str:
        return "\n\n".join(f"[{i}] {d.metadata['title']}: {d.page_content}" for i, d in enumerate(docs, 1))

    chain = ({"context": multi_bot().as_retriever(k=3) | fmt, "question": RunnablePassthrough()}
             | prompt | (lambda v: seen.append(v) or v) | model | StrOutputParser())
    assert chain.invoke("How much did the Harbor Bridge repair cost?") == "It cost 48 million dollars [1]."
    assert "48 million" in seen[0].to_string()


# -- the answer Runnable (offline path) -------------------------------------------------------------------


def _golden() -> list[dict[str, Any]]:
    lines = (ROOT / "evals" / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "timings"} == {k: v for k, v in b.items() if k != "timings"}


def test_runnable_invoke_equals_answer_on_the_golden_questions(seed_bot: Assistant) -> None:
    runnable = seed_bot.as_runnable()
    for case in _golden():
        history = case.get("history")
        got = runnable.invoke({"question": case["question"], "history": history} if history else
                              {"question": case["question"]})
        want = seed_bot.answer(case["question"], [tuple(h) for h in history] if history else None).to_dict()
        assert _same(got, want), case["id"]
        assert set(got["timings"]) == {"retrieve_s", "answer_s", "total_s"}


def test_runnable_batch_on_20_questions(seed_bot: Assistant) -> None:
    questions = [c["question"] for c in _golden()][:20]
    out = seed_bot.as_runnable().batch([{"question": q} for q in questions], config={"max_concurrency": 4})
    assert len(out) == 20
    for q, got in zip(questions, out):
        assert _same(got, seed_bot.answer(q).to_dict()), q


def test_runnable_follow_up_and_bad_input(seed_bot: Assistant) -> None:
    runnable = seed_bot.as_runnable()
    first = runnable.invoke({"question": "Who did Trump send to Moscow?"})
    follow = runnable.invoke({"question": "How long did their talks last?",
                              "history": [["Who did Trump send to Moscow?", first["answer"]]]})
    assert "five hours" in follow["answer"] and follow["standalone_question"]
    with pytest.raises(ValueError, match="empty"):
        runnable.invoke({"question": "  "})
    with pytest.raises(ValueError, match="question"):
        runnable.invoke({"text": "Who?"})
    with pytest.raises(ValueError, match="unknown document id 'x.md'"):
        runnable.invoke({"question": "Who did Trump send to Moscow?", "doc_ids": ["x.md"]})


def test_offline_runnable_stream_and_events(seed_bot: Assistant) -> None:
    runnable = seed_bot.as_runnable()
    chunks = list(runnable.stream({"question": "How long did the talks last?"}))
    assert len(chunks) == 1 and isinstance(chunks[0], dict) and "five hours" in chunks[0]["answer"]

    async def names() -> list[str]:
        return [e["name"] async for e in runnable.astream_events({"question": "How long did the talks last?"})
                if e["event"] == "on_chain_end"]

    ended = asyncio.run(names())
    assert [n for n in ended if n in ("condense", "retrieve", "extractive", "verify")] == [
        "condense", "retrieve", "extractive", "verify"]


# -- the answer Runnable (LLM path, scripted OpenAI-compatible server) -------------------------------------

LLM_Q = "How long did the talks in the Kremlin last?"
LLM_GOOD = "Putin sent Trump's envoys home after five hours of talks in the Kremlin [{n}]."


@pytest.fixture
def llm_bot(make_assistant):  # type: ignore[no-untyped-def]
    from scripted_llm import Reply, ScriptedLLM

    from tests.test_llm import passages_in

    server = ScriptedLLM()

    def respond(body: dict[str, Any]) -> Reply:
        if "Standalone" in json.dumps(body) or "standalone" in json.dumps(body):
            return Reply("How long did the talks between Putin and Trump's envoys in the Kremlin last?")
        n = next(n for n, text in passages_in(body).items() if "five hours" in text)
        return Reply(LLM_GOOD.format(n=n), piece=8)

    server.responder = respond
    bot = make_assistant(llm="openai", openai_base_url=server.url, model="scripted", timeout=2.0, max_retries=1,
                         judge="offline")
    bot.ensure_ingested()
    yield bot, server
    server.close()


def test_llm_runnable_streams_draft_then_verified_answer(llm_bot) -> None:  # type: ignore[no-untyped-def]
    bot, server = llm_bot
    chunks = list(bot.as_runnable().stream({"question": LLM_Q}))
    drafts, final = chunks[:-1], chunks[-1]
    assert len(drafts) > 3 and all(isinstance(c, str) for c in drafts)
    assert "five hours" in "".join(drafts)
    assert isinstance(final, dict) and final["backend"] == "openai:scripted" and not final["refused"]
    assert "five hours" in final["citations"][0]["quote"]
    want = bot.answer(LLM_Q).to_dict()
    assert _same(final, want)  # same prompt, same model reply, same verification as answer()
    assert server.seen[0].messages == server.seen[-1].messages  # the ChatPromptTemplate sends answer()'s messages


def test_llm_runnable_events_name_each_step(llm_bot) -> None:  # type: ignore[no-untyped-def]
    bot, _ = llm_bot
    runnable = bot.as_runnable()

    async def events() -> list[dict[str, Any]]:
        return [e async for e in runnable.astream_events({"question": LLM_Q})]

    seen = asyncio.run(events())
    ended = [e["name"] for e in seen if e["event"].endswith("_end")]
    steps = [n for n in ended if n in ("condense", "retrieve", "prompt", "model", "verify")]
    assert steps == ["condense", "retrieve", "prompt", "model", "verify"], ended
    assert ended[-1] == "assistant"  # the root run
    assert any(e["event"] == "on_chat_model_stream" and e["name"] == "model" for e in seen)
    final = [e for e in seen if e["event"] == "on_chain_end" and e["name"] == "verify"]
    assert final and final[-1]["data"]["output"]


def test_llm_runnable_falls_back_when_the_server_fails(llm_bot) -> None:  # type: ignore[no-untyped-def]
    from scripted_llm import Reply

    bot, server = llm_bot
    server.responder = lambda body: Reply(status=401, body={"error": {"message": "bad key"}})
    out = bot.as_runnable().invoke({"question": LLM_Q})
    assert out["backend"] == "extractive" and "five hours" in out["answer"]
    assert any("model server failed" in n for n in out["notes"])


def test_llm_runnable_retries_like_answer(llm_bot) -> None:  # type: ignore[no-untyped-def]
    from scripted_llm import Reply

    from tests.test_llm import GOOD, scripted

    bot, server = llm_bot
    invented = "The envoys were served caviar and vodka at dinner {five hours}."
    outputs = []
    for run in (lambda: bot.as_runnable().invoke({"question": LLM_Q}), lambda: bot.answer(LLM_Q).to_dict()):
        server.responder = scripted(invented, GOOD)  # the first draft does not verify, the second does
        outputs.append(run())
    assert _same(*outputs) and outputs[0]["backend"] == "openai:scripted"
    assert any("attempt 1" in c for c in outputs[0]["changes"]) and "five hours" in outputs[0]["answer"]
    server.responder = scripted(GOOD)
    server.push(Reply(status=500))  # a failed call is retried with backoff
    chunks = list(bot.as_runnable().stream({"question": LLM_Q}))
    assert chunks[-1]["backend"] == "openai:scripted" and "five hours" in chunks[-1]["answer"]


def test_a_tracer_sees_each_step_with_its_timing(seed_bot: Assistant) -> None:
    from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

    collector = RunCollectorCallbackHandler()
    seed_bot.as_runnable().invoke({"question": "How long did the talks last?"}, config={"callbacks": [collector]})
    (root,) = [r for r in collector.traced_runs if r.parent_run_id is None]

    def names(run) -> list[str]:  # type: ignore[no-untyped-def]
        return [run.name] + [n for child in sorted(run.child_runs, key=lambda c: c.dotted_order) for n in names(child)]

    assert root.name == "assistant"
    steps = [n for n in names(root) if n in ("condense", "retrieve", "extractive", "verify")]
    assert steps == ["condense", "retrieve", "extractive", "verify"]

    def walk(run):  # type: ignore[no-untyped-def]
        yield run
        for child in run.child_runs:
            yield from walk(child)

    timed = {r.name: (r.end_time - r.start_time).total_seconds() for r in walk(root) if r.end_time}
    assert all(timed[s] >= 0 for s in steps) and "five hours" in str(root.outputs)
