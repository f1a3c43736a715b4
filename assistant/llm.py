"""The OpenAI-compatible answerer: an LCEL chain, a token budget, bounded retries and verified citations."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from assistant.condense import History, condense
from assistant.extractive import refusal
from assistant.lexical import content_terms
from assistant.llm_judge import judge_format, judge_messages, parse_verdicts
from assistant.prompts import render
from assistant.settings import Settings
from assistant.tokens import encoding_for_model
from assistant.types import Answer, Citation, Passage
from assistant.verify import REFUSAL, Grounded, claims, ground

log = logging.getLogger(__name__)
UNVERIFIED_NOTE = "The model's answer could not be verified; showing the offline answer."
DECLINED_NOTE = "The model declined to answer although the passages answer the question; showing the offline answer."
RETRY_AFTER_CAP = 10.0
RESTART = "\n(connection problem; retrying)\n"  # yielded by _generate when a partial draft is discarded
Offline = Callable[[str, Sequence[Passage], str], tuple[str, list[Citation], bool]]
RETRY_RESERVE = 250  # tokens kept free for the retry turn (previous answer excerpt + retry prompt)


class LLMError(RuntimeError):
    """The model server failed; the message is safe to show (no secrets)."""

    def __init__(self, message: str, *, retryable: bool, wait: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.wait = wait


def redact(text: str, key: str | None) -> str:
    """Remove an API key (and anything key-shaped) from a message."""
    if key and len(key) >= 4:
        text = text.replace(key, "[redacted]")
    text = re.sub(r"\bsk-[A-Za-z0-9_*\-]{4,}", "sk-[redacted]", text)
    return re.sub(r"(?i)(bearer\s+)\S+", r"\1[redacted]", text)


def classify(exc: BaseException, key: str | None) -> LLMError:
    """Turn a client exception into an LLMError saying whether to retry."""
    import httpx
    import openai

    msg = redact(str(exc), key)[:300]
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return LLMError(
            f"the model server rejected the API key (HTTP {exc.status_code}): set OPENAI_API_KEY to a valid key "
            "(or OPENAI_BASE_URL to a server that needs none)", retryable=False)
    if isinstance(exc, openai.RateLimitError):
        wait = None
        try:
            wait = float(exc.response.headers.get("retry-after", ""))
        except ValueError:
            pass
        return LLMError(f"rate limited (HTTP 429): {msg}", retryable=True, wait=wait)
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("the model server timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError | httpx.HTTPError):
        return LLMError(f"could not reach the model server ({type(exc).__name__})", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"the model server answered HTTP {exc.status_code}: {msg}", retryable=exc.status_code >= 500)
    if isinstance(exc, json.JSONDecodeError | ValueError):
        return LLMError(f"the model server sent a malformed stream: {msg}", retryable=True)
    return LLMError(f"the model call failed: {type(exc).__name__}: {msg}", retryable=False)


class LLMAnswerer:
    """Answers from numbered passages with an OpenAI-compatible chat model, then verifies every citation."""

    def __init__(self, settings: Settings, *, offline: Offline) -> None:
        """Build the chat model and chains from settings (no network until used).

        `offline(question, passages, context)` gives the answer shown when the model fails.
        """
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.runnables import RunnableLambda

        self.settings = settings
        self.offline = offline
        self._key = settings.openai_api_key
        self.encoding = encoding_for_model(settings.model)
        self.window = settings.context_window
        # JSON mode (ASSISTANT_ANSWER_FORMAT=json): the model writes {"answer": [{passage, quote, sentence}]} under a
        # schema and the cited text is built from it. Gated (the local backend): the offline answerability check
        # decides refusals, so a small model is never asked to judge answerability (it refused plain facts).
        self.json_mode = settings.answer_format == "json"
        self.gated = settings.llm == "local"
        match settings.llm:
            case "local":
                from assistant.local import chat_model

                self.chat, self.backend = chat_model(settings)
                self.window = settings.local_context
            case _:
                from langchain_openai import ChatOpenAI
                from pydantic import SecretStr

                self.backend = f"openai:{settings.model}"
                options: dict[str, Any] = {"max_tokens": settings.answer_tokens}  # sent as max_completion_tokens
                self.chat = ChatOpenAI(
                    model=settings.model, base_url=settings.openai_base_url,
                    api_key=SecretStr(settings.openai_api_key or "not-needed"),  # a dummy when only a base URL is set
                    temperature=settings.temperature, timeout=settings.timeout, max_retries=0, **options,
                )
        answer_model = self.chat
        if self.json_mode:
            answer_model = self.chat.bind(response_format=ANSWER_FORMAT_GIVEN if self.gated else ANSWER_FORMAT)
        self.answer_chain = RunnableLambda(answer_messages) | answer_model | StrOutputParser()
        self.condense_chain = RunnableLambda(condense_messages) | self.chat | StrOutputParser()
        self.judge_chain: Any = RunnableLambda(lambda x: judge_messages(x["claims"])) | RunnableLambda(
            lambda messages: self.chat.bind(response_format=judge_format(_claim_count(messages))).invoke(messages)
        ) | StrOutputParser()
        self.judge_seconds: list[float] = []

    # -- condense --------------------------------------------------------------------------------

    def condense(self, question: str, history: History) -> str:
        """A standalone question from the conversation (the offline rule when the model fails)."""
        try:
            text = self.condense_chain.invoke({"question": question, "history": history})
            line = next((x for x in text.strip().splitlines() if x.strip()), "")
            line = re.sub(r"^(standalone question|question)\s*:\s*", "", line.strip(), flags=re.I).strip(" \"'“”")
            known = set(content_terms(question + " " + " ".join(q + " " + a for q, a in history)))
            if line and len(line) <= 2 * len(question) + 300 and set(content_terms(line)) & known:
                return line
            log.info("condensed question rejected: %r", line[:120])
        except Exception as exc:  # noqa: BLE001 - any failure falls back to the offline rule
            log.warning("condense failed: %s", classify(exc, self._key))
        return condense(question, history)[0]

    # -- budget ----------------------------------------------------------------------------------

    def tokens(self, text: str) -> int:
        """Token count of text for the configured model."""
        return len(self.encoding.encode(text, disallowed_special=()))

    def budget(self, question: str, passages: Sequence[Passage]) -> tuple[list[Passage], list[Passage]]:
        """(passages that fit the context window in rank order, passages left out)."""
        shell = {"question": question, "passages": [], "json": self.json_mode, "gated": self.gated}
        overhead = sum(self.tokens(m["content"]) + 4 for m in answer_messages(shell))
        room = self.window - self.settings.answer_tokens - overhead - RETRY_RESERVE - 8
        kept: list[Passage] = []
        left: list[Passage] = []
        for p in passages:
            cost = self.tokens(render_passage(len(kept) + 1, p)) + 2
            if cost <= room:
                kept.append(p)
                room -= cost
            else:
                left.append(p)
        return kept, left

    # -- answer ----------------------------------------------------------------------------------

    def stream(self, question: str, passages: Sequence[Passage], *, context: str = "") -> Iterator[str | Answer]:
        """Yield draft pieces as the model writes them, then the verified Answer."""
        notes: list[str] = []
        changes: list[str] = []
        ranked: Sequence[Passage] = passages
        if self.gated:  # small local model: the offline answerability check decides refusals
            text, citations, refused = self.offline(question, passages, context)
            if refused:
                changes.append("the offline answerability check found no answer in the passages; the model was not asked")
                yield text
                yield Answer(question, text, True, [], list(passages), backend=self.backend, notes=notes, changes=changes)
                return
            first = [c.chunk_id for c in citations]
            ranked = sorted(passages, key=lambda p: first.index(p.chunk_id) if p.chunk_id in first else len(first))
            ranked = ranked[: self.settings.local_passages]
        numbered, left = self.budget(question, ranked)
        if left:
            notes.append(f"left out passages: {', '.join(p.chunk_id for p in left)} (context window)")
        inputs: dict[str, Any] = {"question": question, "passages": numbered, "json": self.json_mode, "gated": self.gated}
        if self.gated and not self.json_mode:  # point a small model at the sentences the offline answerer found
            inputs["hints"] = hint_lines(citations, numbered)
        for attempt in range(2):
            pieces: list[str] = []
            shown = DraftSentences() if self.json_mode else None
            try:
                for piece in self._generate(inputs):
                    if piece is RESTART:
                        pieces.clear()
                        shown = DraftSentences() if self.json_mode else None
                    else:
                        pieces.append(piece)
                    if shown is None or piece is RESTART:
                        yield piece
                    elif text := shown.feed(piece):
                        yield text
            except LLMError as err:
                log.warning("LLM answer failed: %s", err)
                yield self._fallback(question, passages, context, notes, changes,
                                     f"The model server failed ({err}); showing the offline answer.")
                return
            draft = "".join(pieces)
            if self.json_mode:
                draft = json_draft(draft, question, numbered)
                if shown is not None and not shown.count:
                    yield draft
            g, problem = self.check_draft(draft, numbered, passages, changes, attempt)
            if self.gated and g.refused:
                yield self._fallback(question, passages, context, notes, changes, DECLINED_NOTE)
                return
            if not problem:
                yield Answer(question, g.text, g.refused, g.citations, list(passages), backend=self.backend,
                             notes=notes, changes=changes)
                return
            if not self.second_try(g, attempt):
                break
            yield "\n\n(retrying: the draft could not be verified)\n\n"
            inputs = {**inputs, "previous": draft, "problem": problem}
        yield self._fallback(question, passages, context, notes, changes, UNVERIFIED_NOTE)

    def check_draft(
        self, draft: str, numbered: Sequence[Passage], passages: Sequence[Passage], changes: list[str], attempt: int
    ) -> tuple[Grounded, str]:
        """Ground one draft with the configured judge, logging every change in `changes`.

        Returns the grounded draft and, when nothing in it verified, the problem to tell the model ("" when the
        grounded text can be shown, or when the gated model declined: refusals are the answerability check's call).
        """
        entailed = self.entailment(draft, numbered, changes) if self.settings.judge_name == "llm" else None
        g = ground(draft, numbered, passages, entailed=entailed)
        changes.extend(g.changes)
        if self.gated and g.refused:
            changes.append("the model declined although the passages answer the question")
            return g, ""
        if not g.empty:
            return g, ""
        if g.only_too_short:
            problem = (f"“{g.first_removed[:150]}” is too short to check against the passages. Answer in one full "
                       "sentence that says what it is about, in the passage's words")
        elif g.first_removed:
            problem = f"no sentence was supported by the passage it cited (for example “{g.first_removed[:150]}”)"
        else:
            problem = "it contained no sentence with a citation"
        changes.append(f"attempt {attempt + 1}: {problem}")
        return g, problem

    def second_try(self, g: Grounded, attempt: int) -> bool:
        """Whether to ask the model once more after a draft that did not verify.

        Always after the first draft, except for the gated small local model, whose second try rarely verified
        (not worth its time): it is asked again only when every sentence it wrote was too terse to check ("20 points").
        """
        return attempt == 0 and (not self.gated or g.only_too_short)

    def entailment(self, draft: str, numbered: Sequence[Passage], changes: list[str]) -> dict[str, bool] | None:
        """The LLM judge: one schema-constrained call asking whether each draft sentence is entailed by what it cites.

        None (the offline judge decides) when the draft has no cited sentence or the judge's reply is unusable.
        """
        items = [(sentence, cited) for sentence, cited in claims(draft, numbered) if cited]
        if not items or REFUSAL.match(items[0][0]):
            return None
        t0 = time.perf_counter()
        try:
            raw = self.judge_chain.invoke({"claims": items})
        except Exception as exc:  # noqa: BLE001 - the offline judge decides instead
            changes.append(f"LLM judge failed ({classify(exc, self._key)}); the offline judge decided")
            return None
        verdicts = parse_verdicts(raw, len(items))
        if verdicts is None:
            changes.append("LLM judge reply was not usable; the offline judge decided")
            return None
        self.judge_seconds.append(time.perf_counter() - t0)
        return {sentence: ok for (sentence, _), ok in zip(items, verdicts)}

    def _fallback(
        self, question: str, passages: Sequence[Passage], context: str, notes: list[str], changes: list[str], note: str
    ) -> Answer:
        text, citations, refused = self.offline(question, passages, context)
        return Answer(question, text, refused, citations, list(passages), backend="extractive",
                      notes=[*notes, note], changes=changes)

    def _generate(self, inputs: dict[str, Any]) -> Iterator[str]:
        """Stream one completion with bounded retries and an overall deadline; raise LLMError when out of tries."""
        s = self.settings
        calls = 1 if s.llm == "local" else s.max_retries + 1  # in process: nothing transient to retry
        deadline = time.monotonic() + s.timeout * calls + 2 * RETRY_AFTER_CAP
        for attempt in range(s.max_retries + 1):
            watcher = _finish_watcher()
            started = False
            try:
                for piece in self.answer_chain.stream(inputs, config={"callbacks": [watcher]}):
                    if time.monotonic() > deadline:
                        raise LLMError("the model server is too slow (overall deadline passed)", retryable=False)
                    if piece:
                        started = True
                        yield piece
                if watcher.finish is None:
                    raise LLMError("the model's stream ended before it finished", retryable=True)
                if watcher.finish == "length":
                    log.info("the model hit the answer token limit")
                return
            except Exception as exc:  # noqa: BLE001 - classified below; never leaks the key
                err = classify(exc, self._key)
                wait = min(err.wait if err.wait is not None else 0.5 * 2**attempt, RETRY_AFTER_CAP)
                wait += random.uniform(0, 0.1)
                if not err.retryable or attempt == s.max_retries or time.monotonic() + wait > deadline:
                    raise err from None
                log.warning("model call failed (%s); retry %d/%d in %.1f s", err, attempt + 1, s.max_retries, wait)
                if started:
                    yield RESTART
                time.sleep(wait)


def _claim_count(messages: list[dict[str, str]]) -> int:
    return len(re.findall(r"^Claim \d+:", messages[-1]["content"], flags=re.M))


def _finish_watcher() -> Any:
    """A LangChain callback that records the finish_reason of a streamed completion."""
    from langchain_core.callbacks import BaseCallbackHandler

    class FinishWatcher(BaseCallbackHandler):
        finish: str | None = None

        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            for gens in response.generations:
                for g in gens:
                    self.finish = (g.generation_info or {}).get("finish_reason") or self.finish

    return FinishWatcher()


def render_passage(n: int, p: Passage) -> str:
    """One numbered passage as a fenced data block (the fence outgrows any backticks inside)."""
    longest = max((len(m) for m in re.findall(r"`+", p.text)), default=0)
    date = p.metadata.get("date") or p.metadata.get("published") or ""
    title = " ".join((p.title or p.source or p.doc_id).split()).replace('"', "'")
    return render("passage", n=str(n), title=title, dateline=f" ({date})" if date else "",
                  fence="`" * max(3, longest + 1), text=p.text).strip()


def hint_lines(citations: Sequence[Citation], numbered: Sequence[Passage]) -> str:
    """The offline answer's quotes as "[n] “…”" lines, numbered as the model sees the passages ("" when none)."""
    index = {p.chunk_id: n for n, p in enumerate(numbered, start=1)}
    return "\n".join(f"[{index[c.chunk_id]}] “{c.quote}”" for c in citations if c.chunk_id in index)


def answer_messages(inputs: dict[str, Any]) -> list[dict[str, str]]:
    """Chat messages for an answer (and for the retry turn when inputs carry `problem`)."""
    blocks = "\n\n".join(render_passage(n, p) for n, p in enumerate(inputs["passages"], start=1))
    kind = "answer_json" if inputs.get("json") else "answer"
    system = f"{kind}_given_system" if inputs.get("gated") else f"{kind}_system"
    passages = blocks or "(no passages were found)"
    user = (render("answer_given_user", passages=passages, hints=inputs["hints"], question=inputs["question"])
            if inputs.get("hints") else render(f"{kind}_user", passages=passages, question=inputs["question"]))
    messages = [{"role": "system", "content": render(system)}, {"role": "user", "content": user}]
    if "problem" in inputs:
        messages.append({"role": "assistant", "content": inputs.get("previous", "")[:800] or "(empty)"})
        retry = "retry_json" if inputs.get("json") else "retry_given" if inputs.get("gated") else "retry"
        messages.append({"role": "user", "content": render(retry, problem=inputs["problem"])})
    return messages


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "passage": {"type": "integer", "minimum": 1, "maximum": 99},
                    "quote": {"type": "string", "maxLength": 400},
                    "sentence": {"type": "string", "maxLength": 400},
                },
                "required": ["passage", "quote", "sentence"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["answer"],
    "additionalProperties": False,
}
ANSWER_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "cited_answer", "schema": ANSWER_SCHEMA}}
# When the offline answerability check already found an answer in the passages: at least one item.
ANSWER_FORMAT_GIVEN: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "cited_answer", "schema": {
    **ANSWER_SCHEMA, "properties": {"answer": {**ANSWER_SCHEMA["properties"]["answer"], "minItems": 1}}}}}
_SENTENCE = re.compile(r'"sentence"\s*:\s*"((?:[^"\\]|\\.)*)"')


def json_draft(raw: str, question: str, numbered: Sequence[Passage]) -> str:
    """The cited text of a JSON answer: each item's sentence with its [passage]; a refusal for an empty list.

    Text that is not such JSON is returned as it is (the verifier then judges it like any draft).
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    items = data.get("answer") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return raw
    parts: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        sentence = " ".join(str(item.get("sentence") or "").split())
        n = item.get("passage")
        if not sentence:
            continue
        marker = f" [{n}]" if isinstance(n, int) else ""
        m = re.search(r"([.!?…]+[\"'”’)]*)$", sentence)
        parts.append(f"{sentence[: m.start()].rstrip()}{marker}{m.group(1)}" if m else f"{sentence}{marker}.")
    return " ".join(parts) if parts else refusal(question, numbered)


class DraftSentences:
    """Shows a streamed JSON answer as its sentences, each once it is complete."""

    def __init__(self) -> None:
        self.raw = ""
        self.count = 0

    def feed(self, piece: str) -> str:
        """Add a piece of raw JSON; return the text of sentences completed by it."""
        self.raw += piece
        found = _SENTENCE.findall(self.raw)
        new = found[self.count:]
        self.count = len(found)
        out = []
        for value in new:
            try:
                out.append(json.loads(f'"{value}"'))
            except ValueError:
                out.append(value)
        return "".join(f"{' '.join(t.split())} " for t in out)


def condense_messages(inputs: dict[str, Any]) -> list[dict[str, str]]:
    """Chat messages for condensing a follow-up question."""
    turns = []
    for q, a in list(inputs["history"])[-3:]:
        a = re.sub(r"\s*\[\d+\]", "", a or "")
        turns.append(f"User: {' '.join(q.split())}\nAssistant: {' '.join(a.split())[:400]}")
    return [{"role": "user", "content": render("condense", history="\n".join(turns), question=inputs["question"])}]
