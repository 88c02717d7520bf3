"""The feature scaling every trained NLU component relies on (bot/nlu/features.py).

No Rasa import: plain numpy and scipy, checked against the textbook formula. The server scales
one message at a time through a fast path, so one row must give exactly what a batch gives.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bot.nlu.features import FeatureScaler, stack_rows


def _data() -> tuple[dict[str, sp.csr_matrix], dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    words = sp.csr_matrix(rng.poisson(0.05, size=(40, 300)).astype(float))
    chars = sp.csr_matrix(rng.poisson(0.02, size=(40, 900)).astype(float))
    words[5] = 0  # a message with no known word at all
    return {"words": words, "chars": chars}, {"minilm": rng.normal(size=(40, 16))}


def _reference(scaler: FeatureScaler, sparse: dict, dense: dict) -> np.ndarray:
    blocks = []
    for name in scaler.sparse_names:
        tf = np.log1p(np.abs(sparse[name].toarray())) * scaler.idf[name]
        norms = np.linalg.norm(tf, axis=1, keepdims=True)
        blocks.append(tf / np.where(norms == 0, 1.0, norms))
    for name in scaler.dense_names:
        block = dense[name]
        blocks.append(block / np.linalg.norm(block, axis=1, keepdims=True) * scaler.dense_weight)
    return np.hstack(blocks)


def test_scaling_is_sublinear_tf_idf_with_unit_rows_and_weighted_dense() -> None:
    sparse, dense = _data()
    scaler = FeatureScaler.fit(sparse, dense, dense_weight=2.0)
    got = scaler.transform(sparse, dense).toarray()
    assert np.allclose(got, _reference(scaler, sparse, dense))
    assert scaler.sparse_names == ["chars", "words"]
    word_norms = np.linalg.norm(got[:, 900:1200], axis=1)
    assert np.allclose(np.delete(word_norms, 5), 1.0) and word_norms[5] == 0.0


def test_one_message_at_a_time_gives_the_batch_rows() -> None:
    sparse, dense = _data()
    scaler = FeatureScaler.fit(sparse, dense, dense_weight=2.0)
    batch = scaler.transform(sparse, dense).toarray()
    for i in range(40):
        row = ({k: v[i] for k, v in sparse.items()}, {k: v[i] for k, v in dense.items()})
        one_sparse, one_dense = stack_rows([row])
        single = scaler.transform(one_sparse, one_dense)
        assert single.shape == (1, batch.shape[1])
        assert np.allclose(single.toarray()[0], batch[i])


def test_fitting_on_the_used_columns_only_changes_nothing() -> None:
    """LinearModel.fit drops all-zero columns before fitting; the weights must not change."""
    from sklearn.linear_model import LogisticRegression

    from bot.nlu.features import LinearModel

    sparse, dense = _data()
    features = FeatureScaler.fit(sparse, dense, dense_weight=2.0).transform(sparse, dense)
    rows = np.arange(12)  # a few examples: many columns are zero in all of them
    labels = ["a", "b", "c"] * 4
    fitted = LinearModel.fit(features[rows], labels, c=10.0)
    reference = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced", random_state=42)
    reference.fit(features[rows], labels)
    assert fitted.coef.shape == reference.coef_.shape
    assert np.allclose(fitted.coef, reference.coef_, atol=1e-6)
    assert np.allclose(fitted.scores(features), reference.predict_proba(features), atol=1e-6)
