"""The answer pipeline as a LangChain Runnable: named LCEL steps you can invoke, batch, stream and trace.

Offline:  condense -> retrieve -> extractive -> verify
LLM:      condense -> retrieve -> prompt (ChatPromptTemplate from prompts/) -> model -> verify

Input `{"question": str, "history": [[q, a], ...]}` (history optional; also `doc_ids`, `top_k`, `sources`,
`since`, `until` as in `Assistant.answer`);
output the `assistant ask --json` dict. `stream` yields the model's draft pieces (str), then
that dict as the last chunk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableBranch,
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


def chat_prompt(*, json: bool = False, gated: bool = False) -> ChatPromptTemplate:
    """The answer prompt of prompts/ as a ChatPromptTemplate over {passages} and {question}.

    The same files `llm.answer_messages` renders: answer_* (or answer_json_* for JSON mode), the *_given_system
    variant for a gated local model.
    """
    marks = {"passages": "\x00passages\x00", "question": "\x00question\x00"}
    kind = "answer_json" if json else "answer"
    system = f"{kind}_given_system" if gated else f"{kind}_system"

    def template(text: str) -> str:
        text = text.replace("{", "{{").replace("}", "}}")
        for name, mark in marks.items():
            text = text.replace(mark, "{" + name + "}")
        return text

    return ChatPromptTemplate.from_messages(
        [("system", template(render(system))), ("human", template(render(f"{kind}_user", **marks)))]
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


class _Drafts:
    """Collects the pipeline's chunks for the verify step: the merged state, the model's draft, its error."""

    def __init__(self, shown: Any) -> None:
        self.state: State = {}
        self.draft: list[str] = []
        self.error: BaseException | None = None
        self.shown = shown

    def feed(self, chunk: State) -> str | None:
        """Take one chunk; returns the text to show now (None: nothing)."""
        if "draft" in chunk and len(chunk) == 1:
            self.draft.append(chunk["draft"])
            text = chunk["draft"] if self.shown is None else self.shown.feed(chunk["draft"])
            return text or None
        self.state |= chunk
        return chunk.get("gated_refusal")

    def fail(self, exc: BaseException) -> None:
        """Keep the model's error for the offline fallback; re-raise one from before the model was called."""
        if "query" not in self.state:
            raise exc
        self.error = exc


class AnswerRunnable(RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """An Assistant as a Runnable: `invoke` returns the `ask --json` dict; `stream` yields draft pieces, then it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    """The Assistant whose parts answer (`Assistant.as_runnable()` sets it)."""
    name: str | None = "assistant"

    # -- the steps -------------------------------------------------------------------------------

    def _condense(self, value: Any) -> State:
        from assistant.answer import QuestionError

        bot: Assistant = self.assistant
        state = _input(value)
        t0 = time.perf_counter()
        query = bot.prepare(state["question"], _history(state.get("history")), state.get("doc_ids"))
        filters = {k: state[k] for k in ("sources", "since", "until") if state.get(k) is not None}
        try:
            scope = bot.retriever.scope(**filters)
        except ValueError as exc:
            raise QuestionError(str(exc)) from None
        return {"query": query, "top_k": state.get("top_k"), "filters": filters, "scope": scope, "t0": t0}

    def _retrieve(self, state: State) -> State:
        bot: Assistant = self.assistant
        t1 = time.perf_counter()
        query = state["query"]
        passages = [] if state["scope"].empty else bot.search(query.search_text, state["top_k"], query.doc_ids,
                                                              **state["filters"])
        out = {**state, "passages": passages, "retrieve_s": time.perf_counter() - t1, "t2": time.perf_counter()}
        llm = bot.llm
        if llm is not None and not state["scope"].empty:
            from assistant.llm import render_passage

            ranked = passages
            if llm.gated:  # as LLMAnswerer.stream: the offline answerability check decides refusals
                with bot.lock:
                    text, citations, refused = bot.offline_answer(query.standalone, passages, query.context)
                if refused:
                    out["gated_refusal"] = text
                first = [c.chunk_id for c in citations]
                ranked = sorted(passages, key=lambda p: first.index(p.chunk_id) if p.chunk_id in first else len(first))
                ranked = ranked[: bot.settings.local_passages]
            numbered, left = llm.budget(query.standalone, ranked)
            out |= {
                "numbered": numbered, "left": left, "question": query.standalone,
                "passages_text": "\n\n".join(render_passage(n, p) for n, p in enumerate(numbered, start=1))
                or "(no passages were found)",
            }
        return out

    def _extractive(self, state: State) -> State:
        bot: Assistant = self.assistant
        if state["scope"].empty:
            return state
        query, k = state["query"], state["top_k"] or bot.settings.top_k
        with bot.lock:  # as Assistant.stream: each part of a multi-part question also reads its own passages
            result = bot.offline_result(query, state["passages"], lambda part: bot.retriever.search(
                part, k, query.doc_ids, **state["filters"]))
        return {**state, "result": result}

    def _finish(self, state: State) -> dict[str, Any]:
        from assistant.answer import no_match

        bot: Assistant = self.assistant
        scope = state["scope"]
        if scope.empty:  # as Assistant.stream: say the filters matched nothing
            return Answer(state["query"].question, no_match(scope), True, [], [], notes=[no_match(scope)]).to_dict()
        result: Answer = state["result"]
        now = time.perf_counter()
        timings = {"retrieve_s": state["retrieve_s"], "answer_s": now - state["t2"], "total_s": now - state["t0"]}
        result.timings = {k: round(v, 4) for k, v in timings.items()}
        with bot.lock:
            result = bot.finish(result, state["query"], state["passages"])
        if scope.filters:
            n = len(scope.doc_ids or ())
            result.notes.append(f"Searched only the {n} article{'s' if n != 1 else ''} matching: {scope.filters.describe()}.")
        return result.to_dict()

    def _complete(self, state: State, draft: str, error: BaseException | None) -> Iterator[str | Answer]:
        """Ground the model's draft as LLMAnswerer.stream does; yields any new draft text, then the Answer.

        A failed call is retried (bounded, with backoff), the model is asked once more when nothing in its
        draft verifies, and the offline answer with a note is the last resort.
        """
        from assistant.llm import DECLINED_NOTE, RESTART, UNVERIFIED_NOTE, LLMError, classify, json_draft
        bot: Assistant = self.assistant
        llm = bot.llm
        query, passages = state["query"], state["passages"]
        changes: list[str] = []
        if "gated_refusal" in state:
            changes.append("the offline answerability check found no answer in the passages; the model was not asked")
            yield Answer(query.question, state["gated_refusal"], True, [], list(passages), backend=llm.backend,
                         changes=changes)
            return
        notes = [f"left out passages: {', '.join(p.chunk_id for p in state['left'])} (context window)"] if state["left"] else []

        def fallback(note: str) -> Answer:
            with bot.lock:
                answer = bot.offline_result(query, passages)
            answer.notes, answer.changes = [*notes, note], changes
            return answer

        def regenerate(inputs: dict[str, Any]) -> Iterator[str]:
            pieces: list[str] = []
            for piece in llm._generate(inputs):
                if piece is RESTART:
                    pieces.clear()
                else:
                    pieces.append(piece)
                if not llm.json_mode:
                    yield piece
            state["_draft"] = "".join(pieces)

        inputs: dict[str, Any] = {"question": query.standalone, "passages": state["numbered"], "json": llm.json_mode,
                                  "gated": llm.gated}
        problem = ""
        try:
            if error is not None:
                err = classify(error, bot.settings.openai_api_key)
                if not err.retryable:
                    yield fallback(f"The model server failed ({err}); showing the offline answer.")
                    return
                yield from regenerate(inputs)
                draft = state.pop("_draft")
            for attempt in range(2):
                if attempt == 1:
                    yield "\n\n(retrying: the draft could not be verified)\n\n"
                    inputs = {**inputs, "previous": draft, "problem": problem}
                    yield from regenerate(inputs)
                    draft = state.pop("_draft")
                if llm.json_mode:
                    draft = json_draft(draft, query.standalone, state["numbered"])
                g, problem = llm.check_draft(draft, state["numbered"], passages, changes, attempt)
                if llm.gated and g.refused:  # as LLMAnswerer.stream: refusals are the answerability check's call
                    yield fallback(DECLINED_NOTE)
                    return
                if not problem:
                    yield Answer(query.question, g.text, g.refused, g.citations, list(passages), backend=llm.backend,
                                 notes=notes, changes=changes)
                    return
                if not llm.second_try(g, attempt):
                    break
        except LLMError as err:
            yield fallback(f"The model server failed ({err}); showing the offline answer.")
            return
        yield fallback(UNVERIFIED_NOTE)

    def _shown(self) -> Any:
        """Turns a JSON-mode draft into readable sentences as it streams (None: show the text as it comes)."""
        from assistant.llm import DraftSentences

        return DraftSentences() if self.assistant.llm.json_mode else None

    def _verify_stream(self, chunks: Iterator[State]) -> Iterator[Chunk]:
        drafts = _Drafts(self._shown())
        try:
            for chunk in chunks:
                if (text := drafts.feed(chunk)) is not None:
                    yield text
        except Exception as exc:  # noqa: BLE001 - the model failed: the offline answer with a note
            drafts.fail(exc)
        yield from self._conclude(drafts)

    async def _averify_stream(self, chunks: AsyncIterator[State]) -> AsyncIterator[Chunk]:
        drafts = _Drafts(self._shown())
        try:
            async for chunk in chunks:
                if (text := drafts.feed(chunk)) is not None:
                    yield text
        except Exception as exc:  # noqa: BLE001 - the model failed: the offline answer with a note
            drafts.fail(exc)
        events = self._conclude(drafts)
        while (event := await asyncio.to_thread(next, events, None)) is not None:  # retries block: off the loop
            yield event

    def _conclude(self, drafts: _Drafts) -> Iterator[Chunk]:
        """After the draft: any text the grounding adds (a retry), then the verified answer dict."""
        state = drafts.state
        if state.get("scope") is not None and state["scope"].empty:
            yield self._finish(state)
            return
        result = None
        for event in self._complete(state, "".join(drafts.draft), drafts.error):
            if isinstance(event, Answer):
                result = event
            else:
                yield event
        yield self._finish({**state, "result": result})

    def pipeline(self) -> Runnable[Any, Chunk]:
        """The LCEL sequence of named steps this runnable streams through."""
        from langchain_core.output_parsers import StrOutputParser

        bot: Assistant = self.assistant
        condense = RunnableLambda(self._condense, name="condense")
        retrieve = RunnableLambda(self._retrieve, name="retrieve")
        if bot.llm is None:
            return condense | retrieve | RunnableLambda(self._extractive, name="extractive") | RunnableLambda(
                self._finish, name="verify")
        from assistant.llm import ANSWER_FORMAT, ANSWER_FORMAT_GIVEN

        llm = bot.llm
        template = chat_prompt(json=llm.json_mode, gated=llm.gated)
        prompt: Runnable[Any, Any] = RunnableLambda(lambda s: {"passages": s["passages_text"], "question": s["question"]},
                                                    name="prompt_inputs") | template.with_config(run_name="prompt")
        chat = llm.chat.bind(response_format=ANSWER_FORMAT_GIVEN if llm.gated else ANSWER_FORMAT) if llm.json_mode else llm.chat
        draft = prompt | chat.with_config(run_name="model") | StrOutputParser()
        verify = RunnableGenerator(self._verify_stream, self._averify_stream, name="verify")
        nothing: Runnable[Any, str] = RunnableLambda(lambda s: "", name="no_model_call")
        draft_or_not = RunnableBranch((lambda s: bool(s["scope"].empty or "gated_refusal" in s), nothing), draft)
        return condense | retrieve | RunnablePassthrough.assign(draft=draft_or_not) | verify

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
