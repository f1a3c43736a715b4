"""The `assistant` command: ingest | ask | chat | eval."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EPILOG = """\
Configuration comes from environment variables (see the README's table), e.g.
  ASSISTANT_DATA_DIR=.assistant      where the embedded Chroma folder lives
  ASSISTANT_CHROMA_URL=http://127.0.0.1:8000   use a `chroma run` server instead
  OPENAI_API_KEY / OPENAI_BASE_URL   let an OpenAI-compatible model write answers

Examples:
  assistant ingest corpus/ --prune           index new and changed articles, drop removed ones
  assistant ask "Who did Trump send to Moscow?"
  assistant ask --json "How long did the talks last?"
  assistant chat                              web chat on http://127.0.0.1:7860
  assistant eval --check-baseline             every gated eval set against evals/baseline.json
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Answer questions over your articles, with citations you can check. Works offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what happens; -vv also logs library debug output (never secrets)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "ingest",
        help="index articles (.txt .md .html .pdf) into Chroma",
        description="Index articles into Chroma. Unchanged files are skipped, changed files replaced, "
        "bad files reported with the reason while the rest ingest.",
    )
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    p.add_argument("--prune", action="store_true", help="remove documents whose files vanished from the folders")
    p.add_argument("--rebuild", action="store_true", help="drop the collection first (e.g. after changing the embedding model)")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of a summary")
    p.add_argument("--no-wait", action="store_true",
                   help="exit with code 3 instead of waiting when another ingest, upload or delete is writing the store")

    p = sub.add_parser(
        "ask",
        help="answer one question with citations",
        description="Answer one question from the ingested articles. Every sentence carries an [n] "
        "citation; the quoted passages are printed below the answer.",
    )
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--json", action="store_true", help="print the answer, citations and passages as JSON")
    p.add_argument("--stream", action="store_true", help="print the draft as the model writes it (LLM backend)")
    p.add_argument("--top-k", type=int, default=None, help="passages to retrieve (default from settings)")
    p.add_argument("--doc", action="append", default=None, metavar="DOC_ID", help="search only this document (repeatable)")
    p.add_argument("--source", action="append", default=None, metavar="NAME",
                   help="search only articles from this outlet (repeatable; case-insensitive)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="search only articles dated on or after this day")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="search only articles dated on or before this day")

    p = sub.add_parser("chat", help="run the web chat", description="Serve the Gradio web chat over the corpus.")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument("--allow-anonymous", action="store_true",
                   help="serve a non-loopback --host without ASSISTANT_AUTH (anyone who reaches it can ask and upload)")

    p = sub.add_parser(
        "eval",
        help="run the gated eval suite (or one --dataset) and check the baseline",
        description="Run questions through answer() and score retrieval, correctness, citations and refusals. "
        "Without --dataset it runs every gated set (golden, news, dev sample, multi-article, the judge's pairs); "
        "--check-baseline fails when any figure falls below evals/baseline.json minus its tolerance.",
    )
    p.add_argument("--dataset", type=Path, help="one JSONL dataset (default: the gated suite)")
    p.add_argument("--corpus", type=Path, help="folder of the dataset's articles (default: corpus/)")
    p.add_argument("--limit", type=int, help="run only the first N questions")
    p.add_argument("--report", type=Path, help="folder for report.json and report.md")
    p.add_argument("--check-baseline", action="store_true", help="fail when a metric falls below evals/baseline.json")
    p.add_argument("--update-baseline", action="store_true",
                   help="record the gated suite as the new evals/baseline.json (refuses to lower a figure)")
    p.add_argument("--allow-drop", metavar="REASON",
                   help="with --update-baseline: allow lowering figures; the reason is stored in the baseline")
    p.add_argument("--only", action="append", metavar="SET",
                   help="run only this gated set (golden, news, dev, multi, judge; repeatable)")
    return parser


def _print_answer(ans: object) -> None:
    from assistant.types import Answer

    assert isinstance(ans, Answer)
    print(ans.text)  # noqa: T201
    if ans.as_of and not ans.refused:
        from assistant.provenance import as_of_line

        print(f"\n{as_of_line(ans.as_of, len({c.doc_id for c in ans.citations}))}")  # noqa: T201
    if ans.standalone_question:
        print(f"\n(searched for: {ans.standalone_question})")  # noqa: T201
    for note in ans.notes:
        print(f"\nnote: {note}")  # noqa: T201
    if ans.citations:
        print("\nSources:")  # noqa: T201
        for c in ans.citations:
            meta = next((p.metadata for p in ans.passages if p.chunk_id == c.chunk_id), {})
            facts = ", ".join(x for x in (meta.get("outlet"), meta.get("date"), meta.get("url")) if x)
            print(f"  [{c.n}] {c.title}{' — ' + facts if facts else ''} ({c.source}, chars {c.start}-{c.end})")  # noqa: T201
            if c.also_in:
                also = "; ".join(", ".join(x for x in (a["outlet"] or a["doc_id"], a["date"]) if x) for a in c.also_in)
                print(f"      also in: {also}")  # noqa: T201
            print(f"      “{' '.join(c.quote.split())}”")  # noqa: T201


def _interrupted(bot: Any, before: dict[str, str] | None) -> str:
    """The one line printed on Ctrl-C: how many documents this run committed (they are kept).

    `before` is None when the run was stopped before it held the writer lock: it committed nothing.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this line short
    if bot is None or before is None:
        return "Interrupted: 0 documents committed; run the same command again to continue."
    try:
        now = {doc_id: r.content_hash for doc_id, r in bot.store.records().items()}
    except Exception:  # noqa: BLE001 - the count is a courtesy; the store stays consistent either way
        return "Interrupted; run the same command again to continue."
    n = sum(1 for doc_id, h in now.items() if before.get(doc_id) != h)
    return f"Interrupted: {n} documents committed; run the same command again to continue."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (130 after Ctrl-C, with one line instead of a traceback)."""
    try:
        return _main(argv)
    except OSError as exc:  # e.g. a data directory that cannot be created or written
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}; check ASSISTANT_DATA_DIR and file permissions", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)  # noqa: T201
        return 130


def _waiting(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def _main(argv: Sequence[str] | None) -> int:
    from assistant.answer import Assistant, QuestionError
    from assistant.settings import Settings, SettingsError
    from assistant.store import StoreError
    from assistant.writer_lock import WriterBusy

    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        _parser().print_help()
        return 2
    bot: Assistant | None = None
    before: dict[str, str] | None = None
    if args.command == "ingest":
        # Ctrl-C must stop an ingest even when started with SIGINT ignored (e.g. `cmd &` from a script)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        settings = Settings.from_env()
        if args.command == "ask":
            from assistant.answer import clean_question

            clean_question(args.question, settings.max_question_chars)
        if args.command == "chat":
            from assistant.web import serve

            return serve(settings, host=args.host, port=args.port, open_browser=not args.no_browser,
                         allow_anonymous=args.allow_anonymous)
        if args.command == "eval":
            from assistant.evals import run_cli

            return run_cli(args, settings)
        bot = Assistant(settings)
        if args.command == "ingest":
            with bot.store.writer("ingest", wait=not args.no_wait, on_wait=_waiting):
                if args.rebuild:
                    bot.rebuild()
                before = {doc_id: r.content_hash for doc_id, r in bot.store.records().items()}
                report = bot.ingest(args.paths or None, prune=args.prune)
            if args.json:
                print(json.dumps(report.to_dict(), indent=2))  # noqa: T201
            else:
                print(  # noqa: T201
                    f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                    f"removed {report.removed}, skipped {len(report.skipped)}; {report.chunks_total} chunks in store"
                )
                for item in report.skipped:
                    print(f"  skipped {item['path']}: {item['reason']}", file=sys.stderr)  # noqa: T201
            return 0
        if args.command == "ask":
            bot.ensure_ingested()
            if not bot.store.records() and not settings.corpus_dir.is_dir():
                print(  # noqa: T201
                    f"error: no articles are ingested and the corpus folder {str(settings.corpus_dir)!r} does not exist; "
                    "set ASSISTANT_CORPUS to your articles' folder or run `assistant ingest PATH`.",
                    file=sys.stderr,
                )
                return 2
            if args.stream and not args.json:
                from assistant.types import Answer

                final = None
                drafted = False
                for event in bot.stream(args.question, top_k=args.top_k, doc_ids=args.doc,
                                        sources=args.source, since=args.since, until=args.until):
                    if isinstance(event, Answer):
                        final = event
                    else:
                        drafted = True
                        print(event, end="", flush=True)  # noqa: T201
                if drafted and final is not None:
                    label = "verified answer" if final.backend != "extractive" else "offline answer"
                    print(f"\n\n--- {label} ---")  # noqa: T201
                _print_answer(final)
                return 0
            ans = bot.answer(args.question, top_k=args.top_k, doc_ids=args.doc, sources=args.source, since=args.since,
                             until=args.until)
            if args.json:
                print(json.dumps(ans.to_dict(), indent=2, ensure_ascii=False))  # noqa: T201
            else:
                _print_answer(ans)
            return 0
    except WriterBusy as exc:
        print(str(exc), file=sys.stderr)  # noqa: T201
        return 3
    except (SettingsError, StoreError, QuestionError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except OSError as exc:  # e.g. a data directory that cannot be created or written
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}; check ASSISTANT_DATA_DIR and file permissions", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        if args.command != "ingest":
            print("Interrupted.", file=sys.stderr)  # noqa: T201
        else:
            print(_interrupted(bot, before), file=sys.stderr, flush=True)  # noqa: T201
            sys.stdout.flush()
            # Everything is committed or abandoned: skip the interpreter's teardown, which took 2-3 s on a loaded
            # machine and sometimes aborted (exit -6, "terminate called without an active exception") while
            # onnxruntime's threads were torn down. Ending here is no worse than a SIGKILL after a commit.
            os._exit(130)
        return 130
    return 2
