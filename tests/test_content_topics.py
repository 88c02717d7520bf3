"""The topic-name and source catalogues: the real files load, and broken ones fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import ContentError
from bot.content.topics import sources, sources_for, topic_buttons, topic_title, topics


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty content folder the loaders read instead of content/."""
    monkeypatch.setenv("CARERS_CONTENT_DIR", str(tmp_path))
    return tmp_path


def test_real_topics_load() -> None:
    named = topics()
    assert named["ask_visiting"].title == "Visiting"
    assert named["ask_visiting"].response == "utter_visiting"
    assert named["request_film"].button() == {"title": "Films", "payload": "/request_film"}


def test_real_sources_load() -> None:
    assert sources_for("utter_visiting_children")
    assert all(url.startswith("http") for url in sources_for("utter_rights"))
    assert sources_for("utter_no_such_response") == []


def test_topic_title_and_buttons() -> None:
    assert topic_title("ask_visiting_children") == "Children visiting"
    # an intent nobody has named yet still reads as words, never as an intent name
    assert topic_title("ask_parking_help") == "Parking help"
    assert topic_buttons(["ask_rights", "request_human"]) == [
        {"title": "Rights and complaints", "payload": "/ask_rights"},
        {"title": "Talk to a person", "payload": "/request_human"},
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("topics: []\n", "expected a 'topics' mapping"),
        ("topics:\n  ask_x:\n    response: utter_x\n", "missing 'title'"),
        ("topics:\n  ask_x:\n    title: X\n    response: say_x\n", "'response' must be"),
        ("topics:\n  Ask X:\n    title: X\n    response: utter_x\n", "not an intent name"),
        (
            "topics:\n  ask_x:\n    title: Same\n    response: utter_x\n"
            "  ask_y:\n    title: same\n    response: utter_y\n",
            "duplicate topic title",
        ),
    ],
)
def test_broken_topics_fail(content: Path, body: str, message: str) -> None:
    (content / "topics.yml").write_text(body, encoding="utf-8")
    with pytest.raises(ContentError, match=message):
        topics()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sources:\n  utter_x: []\n", "non-empty list"),
        ("sources:\n  utter_x:\n    - not a url\n", "not a well-formed URL"),
        ("sources:\n  ask_x:\n    - https://carers.org/\n", "keys must be response names"),
        (
            "sources:\n  utter_x:\n    - https://carers.org/\n    - https://carers.org/\n",
            "listed twice",
        ),
    ],
)
def test_broken_sources_fail(content: Path, body: str, message: str) -> None:
    (content / "sources.yml").write_text(body, encoding="utf-8")
    with pytest.raises(ContentError, match=message):
        sources()


def test_missing_file_fails(content: Path) -> None:
    with pytest.raises(ContentError, match="missing content file"):
        topics()
