"""Check that every gold quote of a dataset occurs verbatim in one of its gold documents.

Usage: python -m evals.check_quotes DATASET CORPUS_DIR [DATASET CORPUS_DIR ...]
Exits 1 and names each quote that is not found (raw file text and loaded text are both checked).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.load import load_file


def missing_quotes(dataset: Path, corpus: Path) -> list[str]:
    """Return one message per gold quote that occurs in none of its line's gold documents."""
    texts: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    for lineno, line in enumerate(dataset.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        for doc in row.get("gold_docs", []):
            if doc not in texts:
                path = corpus / doc
                if not path.is_file():
                    problems.append(f"{dataset}:{lineno} {row['id']}: gold doc {doc} not in {corpus}")
                    texts[doc] = ("", "")
                    continue
                texts[doc] = (path.read_text(encoding="utf-8"), load_file(path, corpus).text)
        for quote in row.get("gold_quotes", []):
            if not any(quote in raw and quote in loaded for raw, loaded in (texts[d] for d in row["gold_docs"])):
                problems.append(f"{dataset}:{lineno} {row['id']}: not verbatim: {quote!r}")
    return problems


def main(argv: list[str]) -> int:
    """Check each (dataset, corpus) pair given on the command line."""
    if not argv or len(argv) % 2:
        sys.stderr.write(__doc__ or "")
        return 2
    problems: list[str] = []
    for i in range(0, len(argv), 2):
        problems += missing_quotes(Path(argv[i]), Path(argv[i + 1]))
    for p in problems:
        sys.stderr.write(p + "\n")
    sys.stdout.write(f"{'FAIL' if problems else 'ok'}: {len(problems)} quote problems\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
