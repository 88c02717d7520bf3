"""The two afternoon baselines the pipeline must beat, each a plain logistic regression.

* TF-IDF: what a careful engineer would build without Rasa: lower-cased word 1-2-grams and
  character 2-5-grams inside word boundaries (robust to typos), sublinear TF.
* Embeddings: the pipeline's own sentence vectors (all-MiniLM-L6-v2 through
  ``bot.nlu.encoder``, mean-pooled and unit length) and nothing else.

Settings are fixed up front and never tuned on the folds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bench import SEED


def build_baseline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True),
            ),
            (
                "chars",
                TfidfVectorizer(
                    lowercase=True, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                ),
            ),
        ]
    )
    classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=SEED)
    return Pipeline([("features", features), ("classifier", classifier)])


def baseline_predict(
    train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str]
) -> list[str]:
    """Fit on the training part of a fold, predict the test part."""
    model = build_baseline()
    model.fit(list(train_texts), list(train_labels))
    return [str(label) for label in model.predict(list(test_texts))]


def embed_all(texts: Sequence[str]) -> np.ndarray:
    """Sentence vectors for every text, once (the folds index into them)."""
    from bot.nlu.encoder import encoder

    return encoder().encode(list(texts))


def embedding_baseline_predict(
    train_vectors: np.ndarray, train_labels: Sequence[str], test_vectors: np.ndarray
) -> list[str]:
    """Logistic regression on the sentence vectors alone (same C as the TF-IDF baseline)."""
    model = LogisticRegression(C=10.0, max_iter=2000, random_state=SEED)
    model.fit(train_vectors, list(train_labels))
    return [str(label) for label in model.predict(test_vectors)]
