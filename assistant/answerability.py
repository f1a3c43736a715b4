"""Small logistic models, fitted offline by evals/train_answerability.py and shipped as JSON.

Three models: `stage1` scores every candidate sentence from cheap features (which ones to embed),
`sentence` re-scores those with embedding similarity ("this sentence holds the answer"), and
`question` decides "the sources answer this" from the best sentences' evidence. numpy only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = Path(__file__).parent / "data" / "answerability.json"


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic regression: p = sigmoid(((x - mean) / scale) . coef + intercept)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        """Probabilities for feature rows (columns in `names` order)."""
        if not len(rows):
            return np.zeros(0)
        x = (np.asarray(rows, dtype=np.float64) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def predict_columns(self, columns: Sequence[str], rows: Sequence[Sequence[float]]) -> np.ndarray:
        """Probabilities for rows holding `columns` (a superset of `names`, in any order)."""
        if not len(rows):
            return np.zeros(0)
        at = {name: i for i, name in enumerate(columns)}
        return self.predict(np.asarray(rows, dtype=np.float64)[:, [at[n] for n in self.names]])  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (rounded)."""
        return {
            "names": list(self.names), "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale], "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Logistic:
        """Inverse of to_dict."""
        return cls(tuple(data["names"]), np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["coef"]),
                   float(data["intercept"]))


def fit(names: Sequence[str], rows: Sequence[Sequence[float]], labels: Sequence[int], l2: float = 1.0,
        weights: Sequence[float] | None = None) -> Logistic:
    """Fit by Newton's method with an L2 penalty on the standardised coefficients (deterministic)."""
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(y), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = z.T @ (w * (p - y)) + penalty * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return Logistic(tuple(names), mean, scale, beta[:-1], float(beta[-1]))


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve (ties count half)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(allv):  # average ranks over ties
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


@dataclass(frozen=True)
class Models:
    """The shipped models and the decision settings chosen with them."""

    stage1: Logistic
    sentence: Logistic
    question: Logistic
    threshold: float  # answer when question probability >= threshold
    embed_top: int  # candidates re-scored with embeddings
    extra_ratio: float  # an extra sentence joins when its probability is >= this share of the best's

    @property
    def uses_crossencoder(self) -> bool:
        """Whether the models read the cross-encoder's logits (then the answerer should be given a scorer)."""
        return any(n.startswith("ce") for n in (*self.sentence.names, *self.question.names))


@lru_cache(maxsize=4)
def load(path: Path = MODEL_FILE) -> Models:
    """Read the shipped models (cached)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Models(
        Logistic.from_dict(data["stage1"]), Logistic.from_dict(data["sentence"]), Logistic.from_dict(data["question"]),
        float(data["threshold"]), int(data["embed_top"]), float(data.get("extra_ratio", 0.8)),
    )
