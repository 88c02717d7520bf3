"""The home-made Flesch reading ease and message split behave like the textbook measures."""

from __future__ import annotations

import pytest

from bot.readability import (
    flesch_reading_ease,
    sentences,
    split_messages,
    syllables,
    word_count,
    words,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cat", 1),
        ("care", 1),
        ("booked", 1),
        ("needed", 2),
        ("table", 2),
        ("while", 1),
        ("changes", 2),
        ("hopes", 1),
        ("centre", 2),
        ("beyond", 2),
        ("visiting", 3),
        ("hospital", 3),
        ("medium", 3),
        ("tribunal", 3),
        ("information", 4),
        ("responsibility", 6),
        ("NHS", 3),
        ("PALS", 1),
        ("child-friendly", 3),
        ("carers'", 2),
    ],
)
def test_syllables(word: str, expected: int) -> None:
    assert syllables(word) == expected


def test_split_messages_matches_rasa_blank_line_split() -> None:
    text = "First part.\nStill first.\n\nSecond part.\n  \nThird."
    assert split_messages(text) == ["First part.\nStill first.", "Second part.", "Third."]


def test_words_and_sentences() -> None:
    text = "Call 999 now. Samaritans: 116 123\nText SHOUT to 85258!"
    assert words(text) == ["Call", "now", "Samaritans", "Text", "SHOUT", "to"]
    assert word_count(text) == 10  # numbers count towards a message's length
    assert len(sentences(text)) == 3


def test_reading_ease_orders_plain_above_dense() -> None:
    plain = "Ask the ward. They can help you book a visit. Bring your ID."
    dense = (
        "Consideration of confidentiality obligations necessitates comprehensive "
        "institutional documentation regarding information governance responsibilities."
    )
    assert flesch_reading_ease(plain) > 90
    assert flesch_reading_ease(dense) < 0
    # ten one-syllable words in one sentence: 206.835 - 1.015 * 10 - 84.6 * 1
    assert flesch_reading_ease("The cat sat on the mat and was not sad.") == pytest.approx(
        206.835 - 1.015 * 10 - 84.6 * 1.0
    )
    assert flesch_reading_ease("") == 0.0
