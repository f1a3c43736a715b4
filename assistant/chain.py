"""The answer pipeline as a LangChain Runnable: named LCEL steps you can invoke, batch, stream and trace.

Offline:  condense -> retrieve -> extractive -> verify
LLM:      condense -> retrieve -> prompt (ChatPromptTemplate from prompts/) -> model -> verify

Input `{"question": str, "history": [[q, a], ...]}` (history, `doc_ids` and `top_k` optional);
output the `assistant ask --json` dict. `stream` yields the model's draft pieces (str), then
that dict as the last chunk.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnablePassthrough,
    RunnableSerializable,
)
from pydantic import ConfigDict

from assistant.prompts import render
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.answer import Assistant

State = dict[str, Any]
Chunk = str | dict[str, Any]
STEPS_OFFLINE = ("condense", "retrieve", "extractive", "verify")
STEPS_LLM = ("condense", "retrieve", "prompt", "model", "verify")


def chat_prompt() -> ChatPromptTemplate:
    """The answer prompt of prompts/ (answer_system, answer_user) as a ChatPromptTemplate over {passages}, {question}."""
    marks = {"passages": "\x00passages\x00", "question": "\x00question\x00"}

    def template(text: str) -> str:
        text = text.replace("{", "{{").replace("}", "}}")
        for name, mark in marks.items():
            text = text.replace(mark, "{" + name + "}")
        return text

    return ChatPromptTemplate.from_messages(
        [("system", template(render("answer_system"))), ("human", template(render("answer_user", **marks)))]
    )


def _history(value: Any) -> list[tuple[str, str]] | None:
    if not value:
        return None
    pairs = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError('history must be a list of [question, answer] pairs, e.g. [["Who?", "Ana [1]."]]')
        pairs.append((str(item[0]), str(item[1] or "")))
    return pairs


def _input(value: Any) -> State:
    if isinstance(value, str):
        return {"question": value}
    if not isinstance(value, dict) or "question" not in value:
        raise ValueError('the input must be {"question": str, "history": [[question, answer], ...]} (history optional)')
    return dict(value)


class AnswerRunnable(RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """An Assistant as a Runnable: `invoke` returns the `ask --json` dict; `stream` yields draft pieces, then it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    """The Assistant whose parts answer (`Assistant.as_runnable()` sets it)."""
    name: str | None = "assistant"

    # -- the steps -------------------------------------------------------------------------------

    def _condense(self, value: Any) -> State:
        bot: Assistant = self.assistant
        state = _input(value)
        t0 = time.perf_counter()
        query = bot.prepare(state["question"], _history(state.get("history")), state.get("doc_ids"))
        return {"query": query, "top_k": state.get("top_k"), "t0": t0}

    def _retrieve(self, state: State) -> State:
        bot: Assistant = self.assistant
        t1 = time.perf_counter()
        query = state["query"]
        passages = bot.search(query.search_text, state["top_k"], query.doc_ids)
        out = {**state, "passages": passages, "retrieve_s": time.perf_counter() - t1, "t2": time.perf_counter()}
        if bot.llm is not None:
            from assistant.llm import render_passage

            numbered, left = bot.llm.budget(query.standalone, passages)
            out |= {
                "numbered": numbered, "left": left, "question": query.standalone,
                "passages_text": "\n\n".join(render_passage(n, p) for n, p in enumerate(numbered, start=1))
                or "(no passages were found)",
            }
        return out

    def _extractive(self, state: State) -> State:
        bot: Assistant = self.assistant
        with bot.lock:
            result = bot.offline_result(state["query"], state["passages"])
        return {**state, "result": result}

    def _finish(self, state: State) -> dict[str, Any]:
        bot: Assistant = self.assistant
        result: Answer = state["result"]
        now = time.perf_counter()
        timings = {"retrieve_s": state["retrieve_s"], "answer_s": now - state["t2"], "total_s": now - state["t0"]}
        result.timings = {k: round(v, 4) for k, v in timings.items()}
        with bot.lock:
            return bot.finish(result, state["query"], state["passages"]).to_dict()

    def _llm_result(self, state: State, draft: str, error: BaseException | None) -> Answer:
        """Ground the model's draft; the offline answer with a note when it fails or nothing checks out."""
        from assistant.llm import UNVERIFIED_NOTE, classify
        from assistant.verify import ground

        bot: Assistant = self.assistant
        llm = bot.llm
        query, passages = state["query"], state["passages"]
        notes = [f"left out passages: {', '.join(p.chunk_id for p in state['left'])} (context window)"] if state["left"] else []
        changes: list[str] = []
        note = UNVERIFIED_NOTE
        if error is None:
            g = ground(draft, state["numbered"], passages)
            changes.extend(g.changes)
            if not g.empty:
                return Answer(query.question, g.text, g.refused, g.citations, list(passages), backend=llm.backend,
                              notes=notes, changes=changes)
            changes.append("the draft had no sentence supported by the passage it cited")
        else:
            note = f"The model server failed ({classify(error, bot.settings.openai_api_key)}); showing the offline answer."
        with bot.lock:
            fallback = bot.offline_result(query, passages)
        fallback.notes, fallback.changes = [*notes, note], changes
        return fallback

    def _verify_stream(self, chunks: Iterator[State]) -> Iterator[Chunk]:
        state: State = {}
        draft: list[str] = []
        error: BaseException | None = None
        try:
            for chunk in chunks:
                if "draft" in chunk and len(chunk) == 1:
                    draft.append(chunk["draft"])
                    yield chunk["draft"]
                else:
                    state |= chunk
        except Exception as exc:  # noqa: BLE001 - the model failed: the offline answer with a note
            if "query" not in state:
                raise
            error = exc
        yield self._finish({**state, "result": self._llm_result(state, "".join(draft), error)})

    async def _averify_stream(self, chunks: AsyncIterator[State]) -> AsyncIterator[Chunk]:
        state: State = {}
        draft: list[str] = []
        error: BaseException | None = None
        try:
            async for chunk in chunks:
                if "draft" in chunk and len(chunk) == 1:
                    draft.append(chunk["draft"])
                    yield chunk["draft"]
                else:
                    state |= chunk
        except Exception as exc:  # noqa: BLE001 - the model failed: the offline answer with a note
            if "query" not in state:
                raise
            error = exc
        yield self._finish({**state, "result": self._llm_result(state, "".join(draft), error)})

    def pipeline(self) -> Runnable[Any, Chunk]:
        """The LCEL sequence of named steps this runnable streams through."""
        from langchain_core.output_parsers import StrOutputParser

        bot: Assistant = self.assistant
        condense = RunnableLambda(self._condense, name="condense")
        retrieve = RunnableLambda(self._retrieve, name="retrieve")
        if bot.llm is None:
            return condense | retrieve | RunnableLambda(self._extractive, name="extractive") | RunnableLambda(
                self._finish, name="verify")
        prompt: Runnable[Any, Any] = RunnableLambda(lambda s: {"passages": s["passages_text"], "question": s["question"]},
                                name="prompt_inputs") | chat_prompt().with_config(run_name="prompt")
        model = bot.llm.chat.with_config(run_name="model")
        draft = prompt | model | StrOutputParser()
        verify = RunnableGenerator(self._verify_stream, self._averify_stream, name="verify")
        return condense | retrieve | RunnablePassthrough.assign(draft=draft) | verify

    # -- Runnable --------------------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        """Answer one question: the `ask --json` dict."""
        final: dict[str, Any] | None = None
        for chunk in self.stream(input, config, **kwargs):
            if isinstance(chunk, dict):
                final = chunk
        assert final is not None
        return final

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        """Answer one question (async)."""
        final: dict[str, Any] | None = None
        async for chunk in self.astream(input, config, **kwargs):
            if isinstance(chunk, dict):
                final = chunk
        assert final is not None
        return final

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Draft pieces (str, LLM backend only), then the verified answer dict."""
        yield from self.pipeline().with_config(run_name=self.name).stream(input, config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Draft pieces (str, LLM backend only), then the verified answer dict (async)."""
        async for chunk in self.pipeline().with_config(run_name=self.name).astream(input, config, **kwargs):
            yield chunk
