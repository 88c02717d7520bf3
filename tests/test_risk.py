"""Table tests for the graded risk decision: patterns, idioms, frames, ``decide()`` and the
``RiskAssessor`` component.

These need no trained model: they pin the deterministic half (content/safety.yml) and the way
the votes are combined (bot/nlu/risk.py). The model-backed whole is scored on the evaluation set
in tests/test_risk_eval.py.
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
    find_frame,
    find_risk_term,
    load_rules,
    match_pattern,
    normalise,
    normalise_variants,
    parse_rules,
    scan,
)
from bot.nlu.risk import ACUTE, CONCERN, NONE, RiskThresholds, decide

REPO_ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules()


def alarming(text: Any, rules: Any = RULES) -> bool:
    """Does an acute pattern match outside every idiom?"""
    return scan(text, rules)[0] is not None


# --- the acute patterns alone -------------------------------------------------------------------

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
    pattern = scan(text, RULES)[0]
    assert pattern is not None, text
    assert pattern.id == pattern_id, (text, pattern.id)
    assert pattern.category in CATEGORIES


@pytest.mark.parametrize("text", ROBUSTNESS)
def test_typos_case_emoji_and_invisible_characters_are_still_caught(text: str) -> None:
    assert alarming(text), text


@pytest.mark.parametrize("text", NEGATION_POLICY)
def test_negated_statements_still_get_the_gentle_check(text: str) -> None:
    assert alarming(text), text


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_idioms_distress_and_questions_are_not_crisis(text: str) -> None:
    assert not alarming(text), (text, match_pattern(text, RULES))


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
    assert alarming(text), text


# --- decide(): how the votes combine ------------------------------------------------------------


def ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": conf} for name, conf in pairs]


def probs(acute: float, concern: float) -> dict[str, float]:
    return {ACUTE: acute, CONCERN: concern, NONE: 1.0 - acute - concern}


LIMITS = RiskThresholds()


def test_a_pattern_is_acute_unless_the_risk_model_is_sure_it_is_not() -> None:
    text = "he says he will kill himself tonight"
    assert decide(text, RULES).level == ACUTE  # no model: the pattern decides
    assert decide(text, RULES, None, probs(0.3, 0.6), LIMITS).reason.startswith("pattern:")
    low = probs(LIMITS.keep_acute / 2, 0.9)
    assert decide(text, RULES, None, low, LIMITS).level == CONCERN


def test_a_concern_frame_makes_a_downgrade_easier() -> None:
    text = "are patients on suicide watch checked through the night"
    assert find_frame(text, RULES) is not None
    middling = probs((LIMITS.keep_acute + LIMITS.keep_acute_with_frame) / 2, 0.7)
    decision = decide(text, RULES, None, middling, LIMITS)
    assert decision.level == CONCERN
    assert decision.reason.startswith("frame:")


def test_the_risk_model_alone_can_call_indirect_wording_acute() -> None:
    text = "I've left the back door unlocked for whoever finds me"
    sure = probs(LIMITS.model_acute + 0.1, 0.0)
    assert decide(text, RULES, None, sure, LIMITS).level == ACUTE
    unsure = probs(LIMITS.model_acute - 0.2, 0.0)
    assert decide(text, RULES, None, unsure, LIMITS).level == NONE


def test_an_idiom_stops_the_model_alone_from_raising_the_alarm() -> None:
    text = "lol I'm dead, he wants to be a chef when he gets out"
    decision = decide(text, RULES, None, probs(0.95, 0.0), LIMITS)
    assert decision.level == NONE
    assert decision.reason.startswith("idiom:")


def test_the_classifier_vote_needs_support_from_the_risk_model() -> None:
    text = "I don't know what to do with myself"
    crisis = ranking(("express_crisis", LIMITS.classifier_acute + 0.1), ("express_distress", 0.1))
    assert decide(text, RULES, crisis, probs(LIMITS.classifier_support, 0.0), LIMITS).level == ACUTE
    unsupported = probs(LIMITS.classifier_support / 2, 0.0)
    assert decide(text, RULES, crisis, unsupported, LIMITS).level != ACUTE


def test_risk_words_without_danger_are_a_concern_and_hyperbole_is_nothing() -> None:
    past = "his dad died two years ago, is there bereavement support for families"
    assert find_risk_term(past, RULES) is not None
    assert decide(past, RULES, None, probs(0.01, 0.2), LIMITS).level == CONCERN
    for idiom in ["this form is killing me, how do I claim travel", "I could murder a cuppa"]:
        assert decide(idiom, RULES, None, probs(0.01, 0.01), LIMITS).level == NONE, idiom


def test_the_decision_records_ids_and_numbers_never_text() -> None:
    text = "i want to die"
    record = decide(text, RULES, None, probs(0.9, 0.05), LIMITS).as_parse_data()
    assert record["level"] == ACUTE
    assert set(record) == {"level", "reason", "p_acute", "p_concern", "crisis_confidence"}
    assert "die" not in repr(record)


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
    assert decide("hello", RULES, bad_ranking).level == NONE


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
    assert not alarming(text)
    assert decide(text, RULES).level == NONE


def test_50kb_message_is_scanned_quickly_and_completely() -> None:
    filler = "We talked about visiting times and the bus. " * 1200  # ~53 kB
    assert len(filler) > 50_000
    start = time.perf_counter()
    assert not alarming(filler)
    assert alarming(filler + " I want to die")
    assert time.perf_counter() - start < 5.0


def test_only_the_head_and_tail_of_a_very_long_message_are_scanned() -> None:
    budget = RULES.max_chars
    middle = "x " * budget + " i want to die " + "y " * budget
    assert not alarming(middle)  # beyond the documented budget
    assert alarming("i want to die " + "z " * budget)
    assert alarming("z " * budget + " i want to die")


def test_worst_case_input_stays_fast() -> None:
    nasty = "he will my the a " * 4000  # words that start many patterns, 68 kB
    start = time.perf_counter()
    assert not alarming(nasty)
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
        assert alarming(pattern.example), pattern.id


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
        assert not alarming(idiom), idiom
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
        (lambda d: d["concern_frames"][0].update(kind="bogus"), "unknown frame kind"),
        (lambda d: d["risk_thresholds"].update(model_acute=1.5), "risk_thresholds"),
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
    assert alarming("a zebra", rules)
    assert not alarming("I want to die", rules)


def test_config_gives_the_risk_assessor_the_last_word_with_the_fallback_threshold() -> None:
    """Nothing after the RiskAssessor changes the intent: only the follow-up marker, which
    reads its decision, comes after it."""
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [step["name"] for step in config["pipeline"]]
    assessor = "bot.nlu.risk_assessor.RiskAssessor"
    assert names[-2:] == [assessor, "bot.nlu.follow_up_marker.FollowUpMarker"]
    assert names.index(assessor) > names.index("FallbackClassifier")
    fallback = next(step for step in config["pipeline"] if step["name"] == "FallbackClassifier")
    step = next(step for step in config["pipeline"] if step["name"] == assessor)
    assert step["fallback_threshold"] == pytest.approx(fallback["threshold"])


def test_frames_and_terms_examples_are_recognised() -> None:
    for frame in RULES.concern_frames:
        assert find_frame(frame.example, RULES) is not None, frame.id
    for term in RULES.risk_terms:
        assert find_risk_term(term.example, RULES) is not None, term.id


# --- the Rasa component -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assessor(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.risk_assessor import RiskAssessor

    storage = LocalModelStorage(tmp_path_factory.mktemp("risk"))
    return RiskAssessor({"fallback_threshold": 0.4}, storage, Resource("risk"))


def make_message(text: Any, ranked: list[dict[str, Any]]) -> Message:
    data: dict[str, Any] = {TEXT: text}
    if ranked:
        data[INTENT] = dict(ranked[0])
        data[INTENT_RANKING_KEY] = ranked
    return Message(data=data)


def test_acute_puts_express_crisis_on_top_and_drops_a_specific_answer(assessor: Any) -> None:
    message = make_message(
        "before the visit I want to kill myself", ranking(("ask_visiting", 0.92))
    )
    message.set("entities", [{"entity": "answer", "value": "book_visit", "start": 0, "end": 5}])
    assessor.process([message])
    assert message.get(INTENT) == {"name": "express_crisis", "confidence": 1.0}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == [
        "express_crisis",
        "ask_visiting",
    ]
    assert message.get("entities") == []
    record = message.as_dict(only_output_properties=True)["risk"]
    assert record["level"] == ACUTE and record["reason"] == "pattern:harm_verb_self"
    assert "kill" not in repr(record)


def test_a_crisis_guess_that_is_not_acute_goes_to_the_real_question(assessor: Any) -> None:
    ranked = ranking(("express_crisis", 0.5), ("ask_carer_support", 0.45), ("out_of_scope", 0.05))
    message = make_message("his dad died two years ago, is there bereavement support", ranked)
    assessor.process([message])
    assert message.get(INTENT)["name"] == "ask_carer_support"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.9)  # 0.45 / (1 - 0.5)
    assert message.get("risk")["level"] == CONCERN


def test_a_weak_second_guess_becomes_did_you_mean(assessor: Any) -> None:
    ranked = ranking(("express_crisis", 0.4), ("ask_visiting", 0.2), ("ask_rights", 0.2))
    message = make_message("the queue at the gifts desk nearly killed me", ranked)
    assessor.process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert message.get("risk")["level"] == NONE


@pytest.mark.parametrize(
    "text", [None, "", "   ", "\x00\x01", "😢😢😢", b"\xff\xfe", "x" * 50_000, "مرحبا", 42]
)
def test_component_never_raises_on_bad_text(assessor: Any, text: Any) -> None:
    message = make_message(text, ranking(("nlu_fallback", 0.4)))
    assert assessor.process([message]) == [message]
    assert message.get("risk")["level"] in (ACUTE, CONCERN, NONE)


def test_50kb_crisis_message_through_the_component(assessor: Any) -> None:
    message = make_message("blah " * 10_000 + "he says he'll kill himself", [])
    assessor.process([message])
    assert message.get(INTENT)["name"] == "express_crisis"


def test_the_patterns_are_stored_in_the_model_not_read_from_disk_when_serving(
    assessor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.risk_assessor import RiskAssessor

    assessor.train(TrainingData([]))
    monkeypatch.setenv("CARERS_CONTENT_DIR", str(tmp_path))  # the file is gone for the server
    loaded = RiskAssessor.load(
        {"fallback_threshold": 0.4}, assessor._model_storage, assessor._resource, None
    )
    message = make_message("i want to die", [])
    loaded.process([message])
    assert message.get(INTENT)["name"] == "express_crisis"
