"""Cleaning and sorting of incoming messages (``bot.channels.sanitise``), without any server.

Issue 4 item 3: empty, huge, control/binary, emoji-only, HTML/JS, SQL-like, template syntax,
RTL and zero-width characters, other languages and intent-injecting slash commands are each
either cleaned and passed on as plain text or sorted into a kind the channel answers itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.channels.sanitise import MAX_MESSAGE_CHARS, InputKind, guess_language, sanitise
from bot.content.domain import domain_intents

REPO_ROOT = Path(__file__).resolve().parents[1]
INTENTS = domain_intents()


def test_domain_intents_are_the_contract_without_rasa_builtins() -> None:
    assert {"greet", "ask_visiting", "request_film", "express_crisis"} <= INTENTS
    assert not {"restart", "session_start", "nlu_fallback", "back"} & INTENTS


@pytest.mark.parametrize("raw", ["", " ", "   \n\t  ", "\u200b\u200b", "\u00a0\u2028"])
def test_empty_and_invisible_input_is_empty(raw: str) -> None:
    result = sanitise(raw, INTENTS)
    assert result.kind is InputKind.EMPTY
    assert result.text == ""


@pytest.mark.parametrize("raw", [None, 42, 3.5, True, ["hello"], {"text": "hello"}])
def test_values_that_are_not_strings_are_not_text(raw: object) -> None:
    assert sanitise(raw, INTENTS).kind is InputKind.NOT_TEXT


def test_long_message_is_cut_at_the_documented_limit_at_a_word_boundary() -> None:
    raw = "How do I book a visit to see my son? " * 1500  # about 55 kB
    result = sanitise(raw, INTENTS)
    assert result.kind is InputKind.TEXT
    assert result.truncated
    assert result.original_length == len(raw)
    assert MAX_MESSAGE_CHARS * 0.8 <= len(result.text) <= MAX_MESSAGE_CHARS
    assert raw.startswith(result.text)


def test_unbroken_long_message_is_cut_exactly_at_the_limit() -> None:
    result = sanitise("x" * 50_000, INTENTS)
    assert result.truncated
    assert len(result.text) == MAX_MESSAGE_CHARS


def test_short_message_is_not_marked_truncated() -> None:
    result = sanitise("visiting times?", INTENTS)
    assert not result.truncated
    assert result.text == "visiting times?"


def test_control_characters_are_removed_and_whitespace_collapsed() -> None:
    result = sanitise("can I\x00 visit\x07 on\r\n\r\nSunday?\t", INTENTS)
    assert result.kind is InputKind.TEXT
    assert result.text == "can I visit on Sunday?"


@pytest.mark.parametrize(
    "raw",
    [
        bytes(range(256)).decode("latin-1"),
        bytes(range(200, 256)).decode("utf-8", errors="replace") * 3,
        "\x00\x01\x02\x03\x04\x05",
        "\ud800\udfff\ue000\U000f0000 ok",
    ],
)
def test_binary_junk_is_unreadable(raw: str) -> None:
    assert sanitise(raw, INTENTS).kind is InputKind.UNREADABLE


def test_lone_surrogates_never_reach_the_text() -> None:
    result = sanitise("visiting \ud800times", INTENTS)
    assert result.text == "visiting times"
    result.text.encode("utf-8")  # storable: would raise on a lone surrogate


@pytest.mark.parametrize("raw", ["😢", "👍👍", "🙏❤️", "???", "...", "!!! :-)", "→ ★ ♥"])
def test_emoji_and_symbols_only(raw: str) -> None:
    assert sanitise(raw, INTENTS).kind is InputKind.SYMBOLS


def test_emoji_with_words_is_text() -> None:
    assert sanitise("thank you 🙏", INTENTS).kind is InputKind.TEXT


@pytest.mark.parametrize(
    "raw",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "'; DROP TABLE events; --",
        "1' OR '1'='1",
        "{{7*7}}",
        "${jndi:ldap://127.0.0.1/a}",
        "{% for x in y %}{{ x }}{% endfor %}",
        "<%= 7*7 %> #{7*7}",
    ],
)
def test_markup_sql_and_templates_pass_on_unchanged_as_plain_text(raw: str) -> None:
    result = sanitise(raw, INTENTS)
    assert result.kind is InputKind.TEXT
    assert result.text == raw


def test_zero_width_and_bidi_characters_are_removed() -> None:
    raw = "vis\u200biting\u200d ti\u2060mes \u202eevil\u202c \u2067x\u2069 \ufeff"
    result = sanitise(raw, INTENTS)
    assert result.kind is InputKind.TEXT
    assert result.text == "visiting times evil x"


def test_text_is_nfc_normalised() -> None:
    decomposed = "cafe\u0301"
    assert sanitise(decomposed, INTENTS).text == "caf\u00e9"


@pytest.mark.parametrize(
    "raw",
    [
        "Bonjour, je voudrais rendre visite à mon fils à l'hôpital.",
        "Mae fy mab yn yr ysbyty. Sut alla i ymweld ag e?",
        "Dzień dobry, mój syn jest w szpitalu. Jak mogę go odwiedzić?",
        "Mein Sohn ist im Krankenhaus. Wie kann ich ihn besuchen?",
        "Hola, mi hijo está en el hospital. ¿Cómo puedo visitar?",
        "Olá, meu filho está no hospital. Como posso visitar?",
        "ابني في المستشفى، كيف يمكنني زيارته؟",
        "我儿子在医院，我怎么去看他？",
        "Мой сын в больнице. Как его навестить?",
        "میرا بیٹا ہسپتال میں ہے",
        "ਮੇਰਾ ਪੁੱਤਰ ਹਸਪਤਾਲ ਵਿੱਚ ਹੈ",
    ],
)
def test_other_languages_are_foreign(raw: str) -> None:
    result = sanitise(raw, INTENTS)
    assert result.kind is InputKind.FOREIGN
    assert result.language is not None


@pytest.mark.parametrize(
    "raw",
    [
        "My son is in Ysbyty Glan yr Afon, Pen y Bont ar Ogwr",
        "Pen y Bont ar Ogwr",
        "Caswell Clinic, Pen-y-Fai, Bridgend",
        "How do I get to Tŷ Llywelyn at Llanfairfechan?",
        "Is there a carers group in Betws y Coed or Llanfair Pwllgwyngyll?",
        "I live in Ystradgynlais near Abertawe",
        "diolch",
        "Bonjour",
        "I want to die",
        "my mum is at the Orchard in Ealing, visiting on Tuesday",
        "he says je ne sais pas to everything, how do I talk to him?",
    ],
)
def test_english_with_welsh_place_names_or_a_foreign_word_stays_english(raw: str) -> None:
    result = sanitise(raw, INTENTS)
    assert result.kind is InputKind.TEXT, guess_language(raw)


def _training_examples() -> list[str]:
    examples: list[str] = []
    for path in sorted((REPO_ROOT / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    # [entity text](entity) -> entity text
                    examples.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]))
    return examples


def test_every_training_example_passes_as_english_text() -> None:
    examples = _training_examples()
    assert len(examples) > 100
    wrongly_sorted = [
        (example, sanitise(example, INTENTS).kind.value)
        for example in examples
        if sanitise(example, INTENTS).kind is not InputKind.TEXT
    ]
    assert wrongly_sorted == []


def test_crisis_phrasings_pass_as_english_text() -> None:
    phrases = []
    for part in ("dev", "test"):
        path = REPO_ROOT / "tests" / "data" / "risk_eval" / f"{part}.yml"
        data = yaml.safe_load(path.read_text("utf-8"))
        phrases += [str(item["text"]) for level in data.values() for item in level]
    phrases = [phrase for phrase in phrases if phrase.strip()]
    assert len(phrases) >= 50
    assert [p for p in phrases if sanitise(p, INTENTS).kind is not InputKind.TEXT] == []


@pytest.mark.parametrize("intent", sorted(INTENTS))
def test_buttons_for_domain_intents_pass_unchanged(intent: str) -> None:
    result = sanitise(f"/{intent}", INTENTS)
    assert result.kind is InputKind.TEXT
    assert result.text == f"/{intent}"
    assert not result.command_neutralised


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/restart", "restart"),
        ("/session_start", "session_start"),
        ("/nlu_fallback", "nlu_fallback"),
        ("/back", "back"),
        ('/ask_visiting{"location":"x"}', 'ask_visiting{"location":"x"}'),
        ("/ask_visiting@0.9", "ask_visiting@0.9"),
        (
            '/request_local_contacts{"location": "NG22 8TX"}',
            'request_local_contacts{"location": "NG22 8TX"}',
        ),
        ("//restart", "restart"),
        ("  /restart  ", "restart"),
        ("\u200b/restart", "restart"),
        ("/not_an_intent", "not_an_intent"),
        ("/ help", "help"),
    ],
)
def test_other_slash_commands_lose_their_slash(raw: str, expected: str) -> None:
    result = sanitise(raw, INTENTS)
    assert result.command_neutralised
    assert result.text == expected
    assert not result.text.startswith("/")


def test_slash_on_its_own_is_empty_not_a_command() -> None:
    result = sanitise("/", INTENTS)
    assert result.kind is InputKind.EMPTY
    assert result.command_neutralised


def test_slash_inside_a_sentence_is_left_alone() -> None:
    result = sanitise("visiting times / rules", INTENTS)
    assert result.text == "visiting times / rules"
    assert not result.command_neutralised
