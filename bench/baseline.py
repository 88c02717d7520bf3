"""The afternoon baseline: TF-IDF word and character n-grams + logistic regression.

What a careful engineer would build without Rasa: lower-cased word 1-2-grams and character
2-5-grams inside word boundaries (robust to typos), sublinear TF, one multinomial logistic
regression. Settings are fixed up front and never tuned on the folds.
"""

from __future__ import annotations

from collections.abc import Sequence

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
