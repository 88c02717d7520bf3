"""Pure rendering: Rasa messages → Telegram sends (no network)."""

from __future__ import annotations

from bot.telegram.handlers import user_text
from bot.telegram.ratelimit import RateLimiter, Verdict
from bot.telegram.render import (
    BUTTONS_ONLY_TEXT,
    KEY_PREFIX,
    CallbackStore,
    PhotoSend,
    TextSend,
    escape,
    render,
    split_text,
    utf16_len,
)


def test_short_text_is_one_piece():
    assert split_text("  Hello there.  ") == ["Hello there."]
    assert split_text("   ") == []


def test_split_prefers_paragraphs_then_lines_then_words():
    paragraphs = ["a" * 60, "b" * 60, "c" * 60]
    expected = ["a" * 60 + "\n\n" + "b" * 60, "c" * 60]
    assert split_text("\n\n".join(paragraphs), limit=130) == expected
    lines = "\n".join(["x" * 40] * 5)
    assert split_text(lines, limit=100) == ["\n".join(["x" * 40] * 2)] * 2 + ["x" * 40]
    words = " ".join(["word"] * 30)
    pieces = split_text(words, limit=50)
    assert all(len(p) <= 50 for p in pieces) and " ".join(pieces) == words


def test_a_huge_word_is_cut_hard():
    assert split_text("z" * 250, limit=100) == ["z" * 100, "z" * 100, "z" * 50]


def test_limit_counts_utf16_like_telegram():
    emoji = "💛" * 3000  # 6,000 UTF-16 units
    pieces = split_text(emoji)
    assert [utf16_len(p) for p in pieces] == [4096, 6000 - 4096]
    assert "".join(pieces) == emoji


def test_escape_only_what_telegram_html_needs():
    assert escape("Fish & chips <b> \"quoted\" 'single'") == (
        "Fish &amp; chips &lt;b&gt; \"quoted\" 'single'"
    )


def test_consecutive_texts_are_joined_and_buttons_close_the_message():
    store = CallbackStore()
    sends = render(
        [
            {"text": "First paragraph."},
            {"text": "Second paragraph."},
            {"text": "Pick one:", "buttons": [{"title": "Visiting", "payload": "/ask_visiting"}]},
            {"text": "Anything else?"},
        ],
        store,
    )
    assert [type(s) for s in sends] == [TextSend, TextSend]
    assert sends[0].html == "First paragraph.\n\nSecond paragraph.\n\nPick one:"
    assert sends[0].keyboard.inline_keyboard[0][0].callback_data == "/ask_visiting"
    assert sends[1] == TextSend("Anything else?")


def test_buttons_without_text_still_get_a_message():
    [send] = render([{"buttons": [{"title": "Yes", "payload": "/affirm"}]}], CallbackStore())
    assert send.html == BUTTONS_ONLY_TEXT and send.keyboard is not None


def test_images_keep_their_place_and_bad_targets_are_dropped():
    sends = render(
        [
            {"text": "Before"},
            {"image": "https://carers-assistant.invalid/a.jpg"},
            {"image": "javascript:alert(1)"},
            {
                "text": "After",
                "buttons": [
                    {"title": "Link", "url": "javascript:alert(1)", "type": "web_url"},
                    {"title": "", "payload": "/affirm"},
                    {"title": "No payload"},
                ],
            },
        ],
        CallbackStore(),
    )
    assert sends == [
        TextSend("Before"),
        PhotoSend("https://carers-assistant.invalid/a.jpg"),
        TextSend("After"),
    ]


def test_callback_store_maps_long_payloads_and_forgets_old_ones():
    store = CallbackStore(max_entries=2)
    short = "/ask_visiting"
    assert store.data_for(short) == short and len(store) == 0
    payloads = [f'/request_local_contacts{{"location": "{"x" * 60}{n}"}}' for n in range(3)]
    keys = [store.data_for(p) for p in payloads]
    assert all(k.startswith(KEY_PREFIX) and len(k.encode()) <= 64 for k in keys)
    assert store.data_for(payloads[2]) == keys[2]  # stable: same payload, same key
    assert store.payload_for(keys[2]) == payloads[2]
    assert store.payload_for(keys[0]) is None  # evicted (bounded memory)
    assert store.payload_for(short) == short
    # a payload that looks like bridge data is always mapped, never passed through
    assert store.data_for("#done").startswith(KEY_PREFIX)


def test_typed_slashes_are_removed():
    assert user_text("/restart") == "restart"
    assert user_text("//ask_visiting@carers_bot please") == "ask_visiting please"
    assert user_text("  can I visit?  ") == "can I visit?"
    assert user_text("/") == ""


def test_rate_limiter_notifies_once_and_reopens():
    now = [0.0]
    limiter = RateLimiter(limit=2, window=60, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.NOTIFY,
        Verdict.DROP,
    ]
    assert limiter.hit("b") is Verdict.ALLOW
    now[0] = 61.0
    assert limiter.hit("a") is Verdict.ALLOW
