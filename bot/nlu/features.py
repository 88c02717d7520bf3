"""Scale and join a message's sentence features so no feature set drowns the others.

Rasa's ``CountVectorsFeaturizer`` gives raw counts (tens to hundreds of non-zero columns for a
long message) and MiniLM gives a unit vector of 384 small numbers. Concatenated as they are, the
counts decide everything: measured on our data, logistic regression and DIET on raw sparse + dense
features both stayed near the sparse-only accuracy. Here each sparse set becomes TF-IDF (sublinear
term frequency, smoothed IDF learnt at training time) with unit length, and the dense set keeps
unit length times ``dense_weight``. That is the scaling that worked best outside Rasa, now inside.

Pure numpy/scipy (scikit-learn only to fit): used by the intent classifier, the answer selector and
the risk model, and testable without a trained model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


def _row_ids(matrix: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row scaled to unit length, in place on the CSR arrays.

    Plain numpy on ``data``/``indptr``: scipy's operator path (diags, multiply, sum) costs a few
    milliseconds per call on one-row matrices, and this runs three times for every message.
    """
    rows = _row_ids(matrix)
    norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
    norms[norms == 0] = 1.0
    matrix.data /= norms[rows]
    return matrix


def _hstack(parts: list[sp.csr_matrix], rows: int) -> sp.csr_matrix:
    """Side by side; one message (the server's case) without scipy's general machinery."""
    if not parts:
        return sp.csr_matrix((rows, 0))
    if rows != 1:
        return sp.hstack(parts, format="csr")
    offsets = np.cumsum([0] + [part.shape[1] for part in parts[:-1]])
    data = np.concatenate([part.data for part in parts])
    shifted = zip(parts, offsets, strict=True)
    indices = np.concatenate([part.indices.astype(np.int64) + offset for part, offset in shifted])
    width = int(sum(part.shape[1] for part in parts))
    return sp.csr_matrix((data, indices, np.array([0, data.size])), shape=(1, width))


@dataclass
class FeatureScaler:
    """IDF weights per sparse feature set, fitted on the training examples."""

    sparse_names: list[str]
    idf: dict[str, np.ndarray]
    dense_names: list[str]
    dense_weight: float

    @classmethod
    def fit(
        cls,
        sparse: Mapping[str, sp.csr_matrix],
        dense: Mapping[str, np.ndarray],
        dense_weight: float,
    ) -> FeatureScaler:
        """Learn IDF from document frequencies (one row per training example)."""
        idf: dict[str, np.ndarray] = {}
        for name, matrix in sparse.items():
            rows = matrix.shape[0]
            df = np.asarray((matrix > 0).sum(axis=0)).ravel()
            idf[name] = np.log((1.0 + rows) / (1.0 + df)) + 1.0
        return cls(sorted(sparse), idf, sorted(dense), dense_weight)

    def transform(
        self, sparse: Mapping[str, sp.csr_matrix], dense: Mapping[str, np.ndarray]
    ) -> sp.csr_matrix:
        """Rows of joined, scaled features (missing sets become zeros)."""
        rows = _row_count(sparse, dense)
        parts: list[sp.csr_matrix] = []
        for name in self.sparse_names:
            idf = self.idf[name]
            matrix = sparse.get(name)
            if matrix is None or matrix.shape[1] != idf.shape[0]:
                parts.append(sp.csr_matrix((rows, idf.shape[0])))
                continue
            weighted = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
            weighted.sum_duplicates()
            weighted.data = np.log1p(np.abs(weighted.data)) * idf[weighted.indices]
            parts.append(_unit_rows(weighted))
        for name in self.dense_names:
            block = dense.get(name)
            if block is None:
                raise ValueError(f"dense features {name!r} missing at prediction time")
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            parts.append(sp.csr_matrix(block / norms * self.dense_weight))
        return _hstack(parts, rows)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """For ``np.savez`` (no pickle in a model file)."""
        arrays = {f"idf__{name}": values for name, values in self.idf.items()}
        arrays["sparse_names"] = np.array(self.sparse_names, dtype=str)
        arrays["dense_names"] = np.array(self.dense_names, dtype=str)
        arrays["dense_weight"] = np.array([self.dense_weight])
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> FeatureScaler:
        """The inverse of ``to_arrays``."""
        sparse_names = [str(n) for n in arrays["sparse_names"]]
        return cls(
            sparse_names,
            {name: np.asarray(arrays[f"idf__{name}"]) for name in sparse_names},
            [str(n) for n in arrays["dense_names"]],
            float(arrays["dense_weight"][0]),
        )


def _row_count(sparse: Mapping[str, sp.csr_matrix], dense: Mapping[str, np.ndarray]) -> int:
    for matrix in [*sparse.values(), *dense.values()]:
        return int(matrix.shape[0])
    return 0


def stack_rows(
    rows: Sequence[tuple[dict[str, sp.spmatrix], dict[str, np.ndarray]]],
) -> tuple[dict[str, sp.csr_matrix], dict[str, np.ndarray]]:
    """Per-message feature dicts → one matrix per feature set (all messages must have each set)."""
    if len(rows) == 1:  # the server parses one message at a time: nothing to stack
        return (
            {name: sp.csr_matrix(matrix) for name, matrix in rows[0][0].items()},
            {name: np.asarray(block).reshape(1, -1) for name, block in rows[0][1].items()},
        )
    sparse_names = set().union(*(r[0].keys() for r in rows)) if rows else set()
    dense_names = set().union(*(r[1].keys() for r in rows)) if rows else set()
    sparse: dict[str, sp.csr_matrix] = {}
    for name in sparse_names:
        width = max(r[0][name].shape[1] for r in rows if name in r[0])
        sparse[name] = sp.vstack(
            [r[0].get(name, sp.csr_matrix((1, width))) for r in rows], format="csr"
        )
    dense = {
        name: np.vstack([np.asarray(r[1][name]).reshape(1, -1) for r in rows])
        for name in dense_names
    }
    return sparse, dense


@dataclass
class LinearModel:
    """A fitted multinomial logistic regression as plain arrays (stored without pickle)."""

    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def fit(cls, features: sp.csr_matrix, labels: Sequence[str], c: float) -> LinearModel:
        """Balanced classes, deterministic; needs two labels or more."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=42)
        # Fit on the columns these rows use only: with L2 regularisation a column that is zero
        # in every row keeps a zero weight, so the result is the same, and a topic's few hundred
        # examples use a small part of the vocabulary (the answer selector trains ~2x faster).
        features = sp.csr_matrix(features)
        used = np.unique(features.indices)
        model.fit(features[:, used], list(labels))
        coef = np.zeros((model.coef_.shape[0], features.shape[1]))
        coef[:, used] = model.coef_
        return cls([str(c) for c in model.classes_], coef, model.intercept_)

    def scores(self, features: sp.csr_matrix) -> np.ndarray:
        """Probabilities, one row per message, columns in ``classes`` order."""
        return softmax_scores(features, self.coef, self.intercept)

    def to_arrays(self, suffix: str = "") -> dict[str, np.ndarray]:
        """For ``np.savez``; ``suffix`` keeps several models apart in one file."""
        return {
            f"classes{suffix}": np.array(self.classes, dtype=str),
            f"coef{suffix}": self.coef,
            f"intercept{suffix}": self.intercept,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], suffix: str = "") -> LinearModel:
        """The inverse of ``to_arrays``."""
        return cls(
            [str(c) for c in arrays[f"classes{suffix}"]],
            np.asarray(arrays[f"coef{suffix}"]),
            np.asarray(arrays[f"intercept{suffix}"]),
        )


def softmax_scores(features: sp.csr_matrix, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Multinomial logistic regression probabilities from stored weights."""
    logits = np.asarray(features @ coef.T) + intercept
    if coef.shape[0] == 1:  # sklearn's binary case stores one row: P(class 1)
        logits = np.hstack([-logits, logits]) / 2.0
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)
