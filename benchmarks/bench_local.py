"""Local model (ASSISTANT_LLM=local) speed by llama.cpp thread count, on a real answer prompt from the seed article.

    python -m benchmarks.bench_local --threads 1 2 --repeats 2

Each setting loads the model in a fresh engine and answers the same prompt (4 retrieved passages); prompt and
generation rates come from llama.cpp's own timings. Writes benchmarks/results/local_threads.json, with the
machine's load average (the figures are only comparable within one run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchmarks.common import write

Q = "Who did Trump send to Moscow?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from assistant.answer import Assistant
    from assistant.llm import answer_messages
    from assistant.local import Engine, model_path
    from assistant.settings import Settings

    settings = Settings.from_env(llm="local")
    bot = Assistant(settings)
    bot.ensure_ingested()
    passages = bot.retriever.search(Q, 4)
    messages = answer_messages({"question": Q, "passages": passages, "gated": True})
    path = model_path(settings)
    rows = []
    for threads in args.threads:
        t0 = time.perf_counter()
        engine = Engine(path, threads=threads, context=settings.local_context)
        load_s = time.perf_counter() - t0
        runs = []
        for _ in range(args.repeats):
            t1 = time.perf_counter()
            # cache_prompt off: every repeat processes the whole prompt
            r = engine.complete({"messages": messages, "max_tokens": 48, "temperature": 0, "cache_prompt": False})
            tm = r["timings"]
            runs.append({"seconds": round(time.perf_counter() - t1, 2), "prompt_tokens": tm["prompt_n"],
                         "prompt_tok_s": round(tm["prompt_per_second"], 1), "generated_tokens": tm["predicted_n"],
                         "gen_tok_s": round(tm["predicted_per_second"], 1)})
            print(threads, runs[-1], flush=True)
        rows.append({"threads": threads, "load_s": round(load_s, 2), "runs": runs, "load_average": os.getloadavg(),
                     "median_seconds": statistics.median(r["seconds"] for r in runs)})
        del engine
    best = min(rows, key=lambda r: r["median_seconds"])
    write("local_threads", {"model": path.name, "question": Q, "rows": rows, "fastest_threads": best["threads"],
                            "note": "2 cores shared with other jobs while measured; see load_average"})


if __name__ == "__main__":
    main()
