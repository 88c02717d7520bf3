"""Table tests for the safety net: ``bot.content.safety.assess`` and the ``SafetyNet`` component.

These need no trained model: they pin the deterministic half of the crisis path (the curated
patterns in content/safety.yml) so a crisis phrased in a way DIET has never seen still becomes
express_crisis. The model-backed half is scored in tests/test_crisis_eval.py.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.content import ContentError, load_yaml
from bot.content.safety import (
    CATEGORIES,
    assess,
    load_rules,
    match_pattern,
    normalise,
    normalise_variants,
    parse_rules,
)
from bot.nlu.safety_net import SAFETY_NET_KEY, SafetyNet

REPO_ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules()

# --- assess(): patterns alone (no ranking) ----------------------------------------------------

CRISIS = [
    # the carer, first person, direct
    ("I'm going to kill myself", "harm_verb_self"),
    ("i feel like ending my life", "end_life"),
    ("I want to die", "death_wish"),
    ("thinking about suicide a lot lately", "suicide_word"),
    ("I've been self-harming again", "self_harm_word"),
    ("I took too many of my tablets on purpose, a whole packet of them", "pills_quantity"),
    ("planning to hang myself in the garage", "harm_verb_self"),
    ("I might jump off the multi-storey", "jumping"),
    # the patient, third person
    ("my son is threatening to kill himself", "harm_verb_other_self"),
    ("she tried to take her own life on the ward last night", "end_life"),
    ("the ward said he's been ligaturing", "hanging"),
    ("my daughter keeps cutting her arms", "cutting_body"),
    ("he swallowed a razor blade", "swallowing_objects"),
    ("he says he wants to be dead", "death_wish"),
    # harm to others and safeguarding
    ("he said he's going to stab one of the nurses", "kill_person"),
    ("my husband says he'll hurt the kids when he's on leave", "threat_to_hurt"),
    ("he threatened to burn the flat down", "threatened"),
    ("my dad hit my mum during home leave", "assault"),
    ("he hears voices telling him to strangle the nurse", "command_voices"),
    ("I keep having thoughts of smothering the baby", "harm_thoughts"),
    ("I'm being abused by my partner", "victim_of_violence"),
    ("he turned up with a knife", "weapon"),
    ("I'm terrified of him when he gets like this", "afraid_of_person"),
    # indirect
    ("there's no point in living any more", "no_point"),
    ("I've got nothing left to live for", "nothing_to_live_for"),
    ("they would be better off without me", "burden"),
    ("I've been giving away all my things", "giving_away"),
    ("I can't keep myself safe tonight", "cannot_stay_safe"),
    ("this is my last message to anyone", "goodbyes"),
    ("I just want it all to end", "want_it_over"),
    ("I don't want to be here any more", "not_be_here"),
    ("i want to go to sleep and never wake up", "never_wake"),
]

# Typos, case, punctuation, emoji, zero-width, look-alike letters and leetspeak.
ROBUSTNESS = [
    "I WANT TO KILL MYSELF!!!",
    "i want to kill my self",
    "want to kil myself",
    "wanna killl myselfff",
    "i want 2 kill myself",
    "i wnat to die... i want to die",
    "k1ll myself",
    "su1c1dal",
    "suicidel thoughts",
    "feeling sucidal",
    "im going to end it all 😭😭",
    "🔪 i want to hurt myself 🔪",
    "i want to d\u200bie",
    "kill\u200b\u200cmy\u00adself",
    "i want to kіll myself",  # Cyrillic і
    "Ｉ ｗａｎｔ ｔｏ ｄｉｅ",  # fullwidth letters
    "i  want\tto\n\ndie",
    "I’m going to kill myself",  # curly apostrophe
    "he’ll kill me",
    "kms",
    "what's the point anymore",
    "im done with life",
]

# Policy: negated or hedged statements still get the gentle crisis check.
NEGATION_POLICY = [
    "I don't want to die",
    "I would never kill myself",
    "I'm not suicidal",
    "he says he won't hurt himself again",
]

NOT_CRISIS = [
    # idioms
    "the lemon drizzle in the cafe was to die for",
    "dying to see my grandson on Sunday",
    "I'm dying for a brew",
    "we were killing time in the cafe",
    "I could kill for a bacon sandwich",
    "I'm dead tired",
    "my battery died halfway through",
    "shall we murder a curry tonight",
    "the ward round absolutely killed me",
    "my back is killing me after that drive",
    "the waiting is killing me",
    "my wife will kill me if I'm late again",
    "we were killing ourselves laughing",
    "I keep beating myself up about it",
    "I need to cut myself some slack",
    "I've thrown myself into my allotment",
    "I nearly died of embarrassment",
    "you kill me",
    "shoot me a message when visiting is confirmed",
    "cross my heart and hope to die",
    "I burnt my hand on the kettle",
    # distress without risk
    "I'm so upset after the visit",
    "I can't cope with all this paperwork",
    "I'm exhausted and lonely",
    "I feel guilty and angry",
    "I'm in bits",
    "I'm worried about how he's coping on the ward",
    "I'm fed up of waiting for the tribunal",
    # ordinary questions with risk words
    "what is a risk assessment",
    "how does the hospital decide if he's safe to go on leave",
    "what happens if he breaks a rule on leave",
    "who will look after him when I'm gone",
    "what is an index offence",
    "can I bring a knife and fork for a picnic on leave",
    "my phone died, can you repeat that",
    "he's going to hang out with his friends on leave",
    "I'm trying to cut down on the cost of travel",
    "the staff had to cut his hair",
    "hello",
    "",
]


@pytest.mark.parametrize(("text", "pattern_id"), CRISIS)
def test_crisis_phrases_match_the_expected_pattern(text: str, pattern_id: str) -> None:
    verdict = assess(text, None, RULES)
    assert verdict.is_crisis, text
    assert verdict.source == "pattern"
    assert verdict.pattern_id == pattern_id, (text, verdict.pattern_id)
    assert verdict.category in CATEGORIES


@pytest.mark.parametrize("text", ROBUSTNESS)
def test_typos_case_emoji_and_invisible_characters_are_still_caught(text: str) -> None:
    assert assess(text, None, RULES).is_crisis, text


@pytest.mark.parametrize("text", NEGATION_POLICY)
def test_negated_statements_still_get_the_gentle_check(text: str) -> None:
    assert assess(text, None, RULES).is_crisis, text


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_idioms_distress_and_questions_are_not_crisis(text: str) -> None:
    verdict = assess(text, None, RULES)
    assert not verdict.is_crisis, (text, verdict.pattern_id)


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to see him but I want to kill myself",
        "the cake was to die for. I'm going to take all my pills tonight at once",
        "my feet are killing me and I want to die",
        "killing time before the visit, I'm thinking about suicide",
    ],
)
def test_an_idiom_only_cancels_a_match_inside_its_own_span(text: str) -> None:
    assert assess(text, None, RULES).is_crisis, text


# --- the ranking route --------------------------------------------------------------------------


def ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": conf} for name, conf in pairs]


def test_express_crisis_high_in_the_ranking_is_crisis_even_without_a_pattern() -> None:
    threshold = RULES.ranking_threshold
    verdict = assess(
        "I don't know what to do with myself",
        ranking(
            ("nlu_fallback", 0.55),
            ("express_distress", 0.5),
            ("express_crisis", threshold),
        ),
        RULES,
    )
    assert verdict.is_crisis
    assert verdict.source == "ranking"
    assert verdict.crisis_confidence == pytest.approx(threshold)


def test_an_idiom_raises_the_bar_for_the_ranking_route() -> None:
    """DIET reacts to "dead" in "dead tired": the idiom explains it, so the net adds nothing."""
    middling = ranking(("nlu_fallback", 0.55), ("express_crisis", 0.45))
    idiom = assess("I'm dead tired after the ward round", middling, RULES)
    assert not idiom.is_crisis
    assert idiom.idiom_id == "dead_as_intensifier"
    assert assess("I'm exhausted after the ward round", middling, RULES).is_crisis
    sure = ranking(("express_crisis", RULES.ranking_threshold_with_idiom))
    assert assess("I'm dead tired after the ward round", sure, RULES).is_crisis
    # an idiom never cancels a pattern match elsewhere in the message
    assert assess("I'm dead tired and I want to die", middling, RULES).source == "pattern"


def test_express_crisis_low_in_the_ranking_is_not_crisis() -> None:
    verdict = assess(
        "I'm upset",
        ranking(("express_distress", 0.9), ("express_crisis", RULES.ranking_threshold - 0.01)),
        RULES,
    )
    assert not verdict.is_crisis
    assert verdict.crisis_confidence == pytest.approx(RULES.ranking_threshold - 0.01)


@pytest.mark.parametrize(
    "bad_ranking",
    [
        None,
        [],
        [None, "express_crisis", 3],
        [{"name": "express_crisis"}],
        [{"name": "express_crisis", "confidence": "high"}],
        [{"name": "express_crisis", "confidence": float("nan")}],
        [{"name": "express_crisis", "confidence": True}],
    ],
)
def test_malformed_rankings_are_ignored_safely(bad_ranking: Any) -> None:
    assert not assess("hello", bad_ranking, RULES).is_crisis


# --- bad input never crashes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   \n\t ",
        "😀😀😀",
        b"\xff\xfe\x00binary",
        "\x00\x01\x02\x1b[31m",
        "<script>alert('x')</script>",
        "'; DROP TABLE events; --",
        "{{ 7*7 }} ${jndi:ldap://x}",
        "مرحبا كيف حالك",
        "\u202eevil\u202c",
        '/ask_visiting{"hospital": "Rampton"}',
        12345,
    ],
)
def test_odd_input_is_handled_without_error(text: Any) -> None:
    verdict = assess(text, None, RULES)
    assert verdict.is_crisis is False


def test_50kb_message_is_scanned_quickly_and_completely() -> None:
    filler = "We talked about visiting times and the bus. " * 1200  # ~53 kB
    assert len(filler) > 50_000
    start = time.perf_counter()
    assert not assess(filler, None, RULES).is_crisis
    assert assess(filler + " I want to die", None, RULES).is_crisis
    assert time.perf_counter() - start < 5.0


def test_only_the_head_and_tail_of_a_very_long_message_are_scanned() -> None:
    budget = RULES.max_chars
    middle = "x " * budget + " i want to die " + "y " * budget
    assert not assess(middle, None, RULES).is_crisis  # beyond the documented budget
    assert assess("i want to die " + "z " * budget, None, RULES).is_crisis
    assert assess("z " * budget + " i want to die", None, RULES).is_crisis


def test_worst_case_input_stays_fast() -> None:
    nasty = "he will my the a " * 4000  # words that start many patterns, 68 kB
    start = time.perf_counter()
    assert not assess(nasty, None, RULES).is_crisis
    assert time.perf_counter() - start < 5.0


def test_normalisation_rules() -> None:
    assert normalise("I’m   NOT\u200b OK!!") == "im not ok ."
    assert normalise("Don't") == "dont"
    assert normalise("sooooo") == "soo"
    assert normalise(None) == ""
    assert normalise_variants("k1ll") == ("k1ll", "kill")
    assert normalise_variants("section 41") == ("section 41",)


# --- content/safety.yml itself -------------------------------------------------------------------


def test_every_pattern_example_is_caught_by_that_pattern() -> None:
    for pattern in RULES.patterns:
        variants = normalise_variants(pattern.example)
        assert any(pattern.regex.search(v) for v in variants), (pattern.id, pattern.example)
        assert assess(pattern.example, None, RULES).is_crisis, pattern.id


def test_every_exception_example_is_an_idiom_and_not_crisis() -> None:
    for exception in RULES.exceptions:
        variants = normalise_variants(exception.example)
        assert any(exception.regex.search(v) for v in variants), exception.id
        assert match_pattern(exception.example, RULES) is None, exception.id


def test_catalogue_covers_every_category_and_required_idioms() -> None:
    assert {p.category for p in RULES.patterns} == set(CATEGORIES)
    for idiom in [
        "to die for",
        "killing time",
        "dying to see him",
        "kill for a cuppa",
        "dead tired",
        "my phone died",
        "murder a curry",
        "the ward round killed me",
    ]:
        assert not assess(idiom, None, RULES).is_crisis, idiom
    assert 0 < RULES.ranking_threshold <= 0.5
    assert 4096 <= RULES.max_chars <= 50_000  # Telegram's limit .. the bad-input size


def _raw() -> dict[str, Any]:
    return copy.deepcopy(load_yaml("safety"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["patterns"][0].update(category="bogus"), "unknown category"),
        (lambda d: d["patterns"][0].update(regex="(unclosed"), "bad regex"),
        (lambda d: d["patterns"][0].update(regex="{NOPE}"), "unknown macro"),
        (lambda d: d["patterns"][0].update(regex="a*"), "empty string"),
        (lambda d: d["patterns"][1].update(id=d["patterns"][0]["id"]), "duplicate"),
        (lambda d: d["patterns"][0].pop("example"), "missing 'example'"),
        (lambda d: d.update(ranking_threshold=0), "ranking_threshold"),
        (lambda d: d.update(ranking_threshold=1.5), "ranking_threshold"),
        (lambda d: d.update(ranking_threshold_with_idiom=0.1), "below ranking_threshold"),
        (lambda d: d.update(max_chars=10), "max_chars"),
        (lambda d: d.update(patterns=[]), "no patterns"),
    ],
)
def test_malformed_catalogue_fails_loudly(mutate: Any, message: str) -> None:
    data = _raw()
    mutate(data)
    with pytest.raises(ContentError, match=message):
        parse_rules(data)


def test_catalogue_is_read_through_the_content_dir(tmp_path: Path, monkeypatch) -> None:
    data = _raw()
    data["patterns"] = [
        {
            "id": "only_one",
            "category": "indirect",
            "description": "test",
            "regex": r"\bzebra\b",
            "example": "zebra",
        }
    ]
    (tmp_path / "safety.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("CARERS_CONTENT_DIR", str(tmp_path))
    rules = load_rules()
    assert assess("a zebra", None, rules).is_crisis
    assert not assess("I want to die", None, rules).is_crisis


def test_config_places_safety_net_after_the_fallback_classifier() -> None:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [step["name"] for step in config["pipeline"]]
    assert "bot.nlu.safety_net.SafetyNet" in names
    assert names.index("bot.nlu.safety_net.SafetyNet") > names.index("FallbackClassifier")
    assert names[-1] == "bot.nlu.safety_net.SafetyNet"
    fallback = next(step for step in config["pipeline"] if step["name"] == "FallbackClassifier")
    assert RULES.ranking_threshold_with_idiom == pytest.approx(fallback["threshold"])


# --- the Rasa component -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def component() -> SafetyNet:
    return SafetyNet(SafetyNet.get_default_config())


def make_message(text: Any, intent: str | None, ranked: list[dict[str, Any]]) -> Message:
    data: dict[str, Any] = {TEXT: text}
    if intent is not None:
        data[INTENT] = {"name": intent, "confidence": ranked[0]["confidence"] if ranked else 0.0}
        data[INTENT_RANKING_KEY] = ranked
    return Message(data=data)


def test_registered_with_rasa_as_an_untrainable_intent_classifier() -> None:
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    registered = DefaultV1Recipe._from_registry("bot.nlu.safety_net.SafetyNet")
    assert registered.clazz is SafetyNet
    assert not registered.is_trainable
    assert DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER in registered.types


def test_pattern_overrides_a_confident_faq_intent(component: SafetyNet) -> None:
    original = ranking(("ask_visiting", 0.92), ("ask_travel_support", 0.05))
    message = make_message("before the visit I want to kill myself", "ask_visiting", original)
    component.process([message])
    assert message.get(INTENT) == {"name": "express_crisis", "confidence": 1.0}
    names = [item["name"] for item in message.get(INTENT_RANKING_KEY)]
    assert names == ["express_crisis", "ask_visiting", "ask_travel_support"]
    record = message.get(SAFETY_NET_KEY)
    assert record["source"] == "pattern"
    assert record["pattern_id"] == "harm_verb_self"
    assert record["category"] == "suicide_self"
    assert record["previous_intent"] == "ask_visiting"
    assert record["overridden"] is True
    assert "kill" not in repr(record)  # never the user's words
    output = message.as_dict(only_output_properties=True)
    assert output[SAFETY_NET_KEY]["pattern_id"] == "harm_verb_self"
    assert output[INTENT]["name"] == "express_crisis"


def test_nlu_fallback_is_rescued_by_the_ranking(component: SafetyNet) -> None:
    ranked = ranking(("nlu_fallback", 0.55), ("express_distress", 0.41), ("express_crisis", 0.35))
    message = make_message("it's all a bit much and I don't know any more", "nlu_fallback", ranked)
    component.process([message])
    assert message.get(INTENT)["name"] == "express_crisis"
    ranking_after = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking_after] == [
        "express_crisis",
        "nlu_fallback",
        "express_distress",
    ]
    record = message.get(SAFETY_NET_KEY)
    assert record["source"] == "ranking"
    assert record["previous_intent"] == "nlu_fallback"
    assert record["crisis_confidence"] == pytest.approx(0.35)


def test_a_crisis_the_classifier_already_found_is_kept_and_recorded(component: SafetyNet) -> None:
    ranked = ranking(("express_crisis", 0.97), ("express_distress", 0.02))
    message = make_message("everything feels like too much", "express_crisis", ranked)
    component.process([message])
    assert message.get(INTENT)["name"] == "express_crisis"
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)].count("express_crisis") == 1
    assert message.get(SAFETY_NET_KEY)["overridden"] is False


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can I visit on Sunday", "ask_visiting"),
        ("the cake was to die for", "out_of_scope"),
        ("I'm in bits after the visit", "express_distress"),
    ],
)
def test_non_crisis_messages_are_left_untouched(
    component: SafetyNet, text: str, intent: str
) -> None:
    ranked = ranking((intent, 0.9), ("express_crisis", 0.05))
    message = make_message(text, intent, ranked)
    before = copy.deepcopy(message.data)
    component.process([message])
    assert message.data == before
    assert SAFETY_NET_KEY not in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "\x00\x01", "😢😢😢", b"\xff\xfe", "x" * 50_000, "مرحبا", 42],
)
def test_component_never_raises_on_bad_text(component: SafetyNet, text: Any) -> None:
    message = make_message(text, "nlu_fallback", ranking(("nlu_fallback", 0.55)))
    assert component.process([message]) == [message]
    assert message.get(INTENT)["name"] == "nlu_fallback"


def test_component_handles_messages_without_any_intent(component: SafetyNet) -> None:
    crisis, calm = make_message("i want to die", None, []), make_message("hi", None, [])
    component.process([crisis, calm])
    assert crisis.get(INTENT)["name"] == "express_crisis"
    assert crisis.get(INTENT_RANKING_KEY)[0]["name"] == "express_crisis"
    assert calm.get(INTENT) is None


def test_50kb_crisis_message_through_the_component(component: SafetyNet) -> None:
    text = "blah " * 10_000 + "he says he'll kill himself"
    message = make_message(text, "nlu_fallback", ranking(("nlu_fallback", 0.55)))
    component.process([message])
    assert message.get(INTENT)["name"] == "express_crisis"
