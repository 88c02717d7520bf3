"""The assistant's answers (``domain.yml`` and the specific answers in ``data/answers/``):
complete, short, plain, sourced and safe.

Issue 2 item 4: every topic has a substantive answer with 2-4 quick replies, messages stay short
enough for a phone, the mean Flesch reading ease is at least 65, every factual answer records its
sources, and no answer carries a link or a phone number we have not checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.messages import messages
from bot.content.topics import sources, topics
from bot.readability import flesch_reading_ease, split_messages, word_count

REPO_ROOT = Path(__file__).resolve().parents[1]
RESEARCH_BRIEF = REPO_ROOT.parent / "shared" / "research" / "domain.md"

MAX_WORDS_PER_MESSAGE = 120
MIN_MEAN_READING_EASE = 65.0

# Responses that must exist besides the topic answers (names other code and rules rely on).
CONVERSATION_RESPONSES = [
    "utter_greet",
    "utter_goodbye",
    "utter_thank",
    "utter_carry_on",
    "utter_no_problem",
    "utter_iamabot",
    "utter_capabilities",
    "utter_out_of_scope",
    "utter_human",
    "utter_distress",
    "utter_crisis",
    "utter_crisis_continue",
    "utter_contacts_stopped",
]
# Safety and hand-off answers give facts too, so they must record sources like topic answers.
SOURCED_NON_TOPIC = ["utter_crisis", "utter_distress", "utter_human"]

# Well-sourced national numbers (domain.md section 12), used only if content/ has no catalogue.
FALLBACK_PHONE_ALLOW_LIST = [
    "999",
    "111",
    "116 123",
    "85258",
    "0300 466 6463",
    "03000 616161",
    "0808 808 8000",
]
PHONE_CATALOGUES = ["helplines.yml", "services.yml"]

# Phone numbers as written for people: 999, 111, 116 123, 5-digit text short codes, and UK
# numbers starting with 0 in 2-4 groups. Section numbers (117) and years (2025) do not match.
PHONE_RE = re.compile(
    r"(?<![\d£.,])(?:0\d{2,4}(?: ?\d{2,4}){1,3}|116 ?\d{3}|999|111|\d{5})(?!\d)(?![.,]\d)"
)
LINK_RE = re.compile(r"https?:|www\.|\b[a-z0-9-]+\.(?:org|com|co\.uk|nhs\.uk|gov\.uk|uk)\b", re.I)
PAYLOAD_RE = re.compile(r"^/([a-z_]+)$")


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def phone_numbers(text: str) -> list[str]:
    """Phone-like numbers in a text, as written."""
    return [match.group(0) for match in PHONE_RE.finditer(text)]


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    with open(REPO_ROOT / "domain.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def responses(domain: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The domain's responses plus the fixed messages code sends (content/messages.yml), so the
    same length, reading-ease, phone and link checks hold for everything a carer reads."""
    sent_by_code = {
        f"message:{key}": [{"text": found.text, "buttons": found.buttons}]
        for key, found in messages().items()
    }
    return {**domain["responses"], **answers(), **sent_by_code}


def answers() -> dict[str, list[dict[str, Any]]]:
    """The specific answers (retrieval responses utter_ask_<topic>/<key>) in data/answers/."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((REPO_ROOT / "data" / "answers").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, variants in (data.get("responses") or {}).items():
            assert name not in found, f"{name} is defined twice"
            found[name] = variants
    return found


def answer_keys() -> set[str]:
    """Every ``ask_<topic>/<key>`` label used by a training example (general excluded)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(REPO_ROOT / "data" / "nlu"))
    return {
        m.get("intent_response_key")
        for m in data.intent_examples
        if m.get("intent_response_key") and not m.get("intent_response_key").endswith("/general")
    }


MIN_SPECIFIC_WORDS, MAX_SPECIFIC_WORDS = 30, 120


def test_there_are_about_150_specific_answers_each_with_examples_and_an_answer() -> None:
    specific = {name for name in answers() if "/" in name}
    assert len(specific) >= 140
    keys = answer_keys()
    assert {f"utter_{key}" for key in keys} == specific


def test_specific_answers_are_30_to_120_words_answer_first_and_sourced() -> None:
    recorded = sources()
    for name, variants in answers().items():
        if "/" not in name:
            continue
        assert recorded.get(name), f"{name}: no sources"
        assert any(not v.get("condition") for v in variants), f"{name}: no default variant"
        for text in _texts(variants):
            words = word_count(text)
            assert MIN_SPECIFIC_WORDS <= words <= MAX_SPECIFIC_WORDS, (name, words)


@pytest.fixture(scope="module")
def intents(domain: dict[str, Any]) -> list[str]:
    return [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]


def _topic_intents(intents: list[str]) -> list[str]:
    return [intent for intent in intents if intent.startswith("ask_")]


def _answer_name(intent: str) -> str:
    return "utter_" + intent.removeprefix("ask_")


def _texts(variants: list[dict[str, Any]]) -> list[str]:
    return [v["text"] for v in variants if isinstance(v, dict) and v.get("text")]


def _known_phone_digits() -> tuple[set[str], str]:
    """Digits of every number in the content catalogues (or the fallback list), and whence."""
    found: set[str] = set()
    used: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, (str, int)):
            found.update(_digits(n) for n in phone_numbers(str(node)))

    for name in PHONE_CATALOGUES:
        path = REPO_ROOT / "content" / name
        if path.is_file():
            with open(path, encoding="utf-8") as handle:
                walk(yaml.safe_load(handle))
            used.append(f"content/{name}")
    if RESEARCH_BRIEF.is_file():  # numbers the brief gives with their sources (e.g. HIW)
        found.update(_digits(n) for n in phone_numbers(RESEARCH_BRIEF.read_text(encoding="utf-8")))
        used.append("the research brief")
    if not found:
        return {_digits(n) for n in FALLBACK_PHONE_ALLOW_LIST}, "fallback allow-list"
    return found, ", ".join(used)


def test_every_topic_intent_has_its_answer(intents, responses) -> None:
    topic_intents = _topic_intents(intents)
    assert len(topic_intents) >= 16
    missing = [_answer_name(i) for i in topic_intents if _answer_name(i) not in responses]
    assert not missing, f"topic intents without an answer: {missing}"


def test_conversation_responses_exist(responses) -> None:
    missing = [name for name in CONVERSATION_RESPONSES if name not in responses]
    assert not missing, f"missing responses: {missing}"


def test_every_response_has_text(responses) -> None:
    empty = [name for name, variants in responses.items() if not _texts(variants)]
    assert not empty, f"responses without text: {empty}"


def test_messages_are_short(responses) -> None:
    longest = 0
    too_long = []
    for name, variants in responses.items():
        for text in _texts(variants):
            for message in split_messages(text):
                words = word_count(message)
                longest = max(longest, words)
                if words > MAX_WORDS_PER_MESSAGE:
                    too_long.append(f"{name} ({words} words): {message[:60]}...")
    print(f"\nlongest message: {longest} words (limit {MAX_WORDS_PER_MESSAGE})")
    assert not too_long, "messages over the limit:\n" + "\n".join(too_long)


def test_topic_answers_offer_two_to_four_related_topics(intents, responses) -> None:
    known = set(intents)
    for intent in _topic_intents(intents):
        name = _answer_name(intent)
        for variant in responses[name]:
            buttons = variant.get("buttons") or []
            assert 2 <= len(buttons) <= 4, f"{name}: {len(buttons)} buttons, want 2-4"
            payloads = [b["payload"] for b in buttons]
            assert f"/{intent}" not in payloads, f"{name}: a button repeats its own topic"
            assert len(set(payloads)) == len(payloads), f"{name}: duplicate buttons"
            for button in buttons:
                match = PAYLOAD_RE.match(button["payload"])
                assert match and match.group(1) in known, f"{name}: bad payload {button}"


def test_every_button_is_well_formed(intents, responses) -> None:
    known = set(intents)
    for name, variants in responses.items():
        for variant in variants:
            for button in variant.get("buttons") or []:
                title = str(button.get("title", "")).strip()
                assert title and len(title) <= 30, f"{name}: button title {title!r}"
                match = PAYLOAD_RE.match(str(button.get("payload", "")))
                assert match and match.group(1) in known, f"{name}: bad payload {button}"


def test_mean_reading_ease(responses) -> None:
    scores: dict[str, float] = {}
    for name, variants in responses.items():
        texts = _texts(variants)
        scores[name] = sum(flesch_reading_ease(t) for t in texts) / len(texts)
    mean = sum(scores.values()) / len(scores)
    hardest = sorted(scores.items(), key=lambda item: item[1])[:3]
    print(f"\nmean Flesch reading ease over {len(scores)} responses: {mean:.1f}")
    print("hardest: " + ", ".join(f"{name} {score:.1f}" for name, score in hardest))
    assert mean >= MIN_MEAN_READING_EASE


def test_factual_answers_record_sources(intents, responses) -> None:
    recorded = sources()  # also checks every URL is well-formed
    # ask_capabilities answers with a menu, not facts.
    topic_answers = [_answer_name(i) for i in _topic_intents(intents) if i != "ask_capabilities"]
    need = topic_answers + SOURCED_NON_TOPIC
    need += [
        name
        for name, variants in responses.items()
        if any(phone_numbers(text) for text in _texts(variants))
    ]
    missing = sorted({name for name in need if not recorded.get(name)})
    assert not missing, f"responses without sources in content/sources.yml: {missing}"
    stale = sorted(set(recorded) - set(responses))
    assert not stale, f"content/sources.yml lists responses that do not exist: {stale}"


def test_sources_come_from_the_research_brief() -> None:
    """Guards against invented links: every source URL appears in the fact brief."""
    if not RESEARCH_BRIEF.is_file():
        pytest.skip(f"research brief not present at {RESEARCH_BRIEF}")
    brief = RESEARCH_BRIEF.read_text(encoding="utf-8")
    unknown = sorted({url for urls in sources().values() for url in urls if url not in brief})
    assert not unknown, f"source URLs not in domain.md: {unknown}"


def test_phone_numbers_are_known(responses) -> None:
    known, whence = _known_phone_digits()
    seen = 0
    unknown = []
    for name, variants in responses.items():
        for text in _texts(variants):
            for number in phone_numbers(text):
                seen += 1
                if _digits(number) not in known:
                    unknown.append(f"{name}: {number}")
    print(f"\n{seen} phone numbers in responses, checked against {whence}")
    assert seen > 0, "the crisis response should give numbers; is the pattern broken?"
    if unknown and not RESEARCH_BRIEF.is_file():
        pytest.skip(f"research brief not present at {RESEARCH_BRIEF} to check {unknown}")
    assert not unknown, f"numbers not in {whence}: {unknown}"


def test_phone_pattern() -> None:
    text = (
        "Call 999 or NHS 111 option 2, Samaritans on 116 123, text SHOUT to 85258, "
        "CQC 03000 616161, Mind 0300 466 6463. Section 117 of the 1983 Act, £86.45, 2025."
    )
    assert phone_numbers(text) == [
        "999",
        "111",
        "116 123",
        "85258",
        "03000 616161",
        "0300 466 6463",
    ]


def test_no_links_in_answers(responses) -> None:
    linked = [
        name
        for name, variants in responses.items()
        for text in _texts(variants)
        if LINK_RE.search(text)
    ]
    assert not linked, f"responses with links (links belong in content/, not answers): {linked}"


def test_topics_name_every_topic_intent(domain, intents, responses) -> None:
    named = topics()
    topic_intents = [
        i for i in intents if i.startswith(("ask_", "request_")) or i == "express_distress"
    ]
    missing = [i for i in topic_intents if i not in named]
    assert not missing, f"content/topics.yml does not name: {missing}"
    unknown = [i for i in named if i not in intents]
    assert not unknown, f"content/topics.yml names intents the domain lacks: {unknown}"
    actions = set(domain.get("actions") or []) | set(domain.get("forms") or {})
    for topic in named.values():
        if topic.response.startswith("utter_"):
            assert topic.response in responses, f"{topic.intent}: no {topic.response}"
        else:
            assert topic.response in actions, f"{topic.intent}: no {topic.response}"
