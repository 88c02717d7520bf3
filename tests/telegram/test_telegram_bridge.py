"""The real bridge (PTB Application, long polling) against the fake Bot API and a fake Rasa."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

import pytest

from bot.content.crisis import crisis_text
from bot.content.messages import message
from bot.telegram import texts
from bot.telegram.privacy import sender_id
from bot.telegram.render import KEY_PREFIX

CHAT = 987654321  # distinctive, so a leak into Rasa's requests or the logs is easy to spot
OTHER_CHAT = 555000111


def reply(text: str | None = None, **extra: Any) -> list[dict[str, Any]]:
    message: dict[str, Any] = {"recipient_id": "ignored", **extra}
    if text is not None:
        message["text"] = text
    return [message]


def markup_of(call: Any) -> list[list[dict[str, Any]]]:
    return (call.params.get("reply_markup") or {}).get("inline_keyboard", [])


def shown(call: Any) -> str:
    """What the carer reads: the HTML text with its escapes resolved."""
    return html.unescape(call.params["text"])


async def test_startup_registers_commands_and_polls(telegram_api, start_bridge):
    await start_bridge()
    await telegram_api.wait_for(lambda: "getUpdates" in telegram_api.methods(), what="polling")
    methods = telegram_api.methods()
    assert methods[0] == "getMe"
    assert "deleteWebhook" in methods  # polling removes any webhook first
    commands = next(c for c in telegram_api.calls if c.method == "setMyCommands")
    names = [command["command"] for command in commands.params["commands"]]
    assert names == ["start", "help", "films", "contacts", "crisis", "forget"]


async def test_message_gets_reply_with_inline_keyboard(telegram_api, rasa, start_bridge):
    running = await start_bridge()
    telegram_api.say(CHAT, "can I bring my kids to visit?")
    [call] = await telegram_api.wait_sent(CHAT, 1)

    assert call.params["parse_mode"] == "HTML"
    assert shown(call) == "You said: can I bring my kids to visit?"
    assert markup_of(call) == [
        [{"text": "Visiting with children", "callback_data": "/ask_visiting_children"}],
        [{"text": "Help with travel costs", "callback_data": "/ask_travel_support"}],
    ]
    [request] = rasa.requests
    assert request["message"] == "can I bring my kids to visit?"
    assert request["metadata"] == {"channel": "telegram"}
    assert request["sender"] == sender_id(CHAT, running.config.sender_salt)
    # "typing…" was shown while Rasa worked, before the answer arrived
    methods = telegram_api.methods()
    assert "sendChatAction" in methods
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    action = next(c for c in telegram_api.calls if c.method == "sendChatAction")
    assert action.params["action"] == "typing"


async def test_button_tap_is_answered_marked_and_forwarded(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, "visiting")
    await telegram_api.wait_sent(CHAT, 1)
    [question] = telegram_api.sent_messages(CHAT)

    tap = telegram_api.tap(CHAT, question, "/ask_visiting_children")
    await telegram_api.wait_sent(CHAT, 2)

    query_id = tap["callback_query"]["id"]
    assert query_id in telegram_api.answered
    assert rasa.messages() == ["visiting", "/ask_visiting_children"]
    # the tapped keyboard now shows only the choice, so it cannot be tapped twice
    assert question["reply_markup"]["inline_keyboard"] == [
        [{"text": "✓ Visiting with children", "callback_data": "#done"}]
    ]
    assert shown(telegram_api.sent(CHAT)[1]) == "You said: /ask_visiting_children"

    # tapping the marked choice is answered and does nothing else
    second = telegram_api.tap(CHAT, question, "#done")
    await telegram_api.wait_for(lambda: second["callback_query"]["id"] in telegram_api.answered)
    await telegram_api.settle()
    assert len(rasa.requests) == 2


async def test_callback_data_not_on_the_keyboard_is_ignored(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, "hello")
    await telegram_api.wait_sent(CHAT, 1)
    [question] = telegram_api.sent_messages(CHAT)

    forged = telegram_api.tap(CHAT, question, "/restart")
    await telegram_api.wait_for(lambda: forged["callback_query"]["id"] in telegram_api.answered)
    await telegram_api.settle()
    assert rasa.messages() == ["hello"]
    assert len(telegram_api.sent(CHAT)) == 1


async def test_long_reply_is_split_at_paragraphs(telegram_api, rasa, start_bridge):
    paragraphs = [f"Paragraph {i}: " + "word " * 19 + "end." for i in range(52)]
    long_text = "\n\n".join(paragraphs)
    assert 5800 < len(long_text) < 6200
    buttons = [{"title": "Tell me more", "payload": "/ask_visiting"}]
    rasa.reply = lambda body: reply(long_text, buttons=buttons)
    await start_bridge()

    telegram_api.say(CHAT, "tell me everything")
    calls = await telegram_api.wait_sent(CHAT, 2)
    await telegram_api.settle()
    calls = telegram_api.sent(CHAT)

    assert len(calls) == 2
    parts = [shown(call) for call in calls]
    assert all(len(part) <= 4096 for part in parts)
    assert "\n\n".join(parts) == long_text  # nothing lost, cut between paragraphs
    assert not markup_of(calls[0])
    assert markup_of(calls[1]) == [[{"text": "Tell me more", "callback_data": "/ask_visiting"}]]


async def test_html_in_replies_is_shown_escaped(telegram_api, rasa, start_bridge):
    nasty = "<script>alert('hi')</script> & <b>not bold</b> 3 < 4"
    rasa.reply = lambda body: reply(nasty)
    await start_bridge()

    telegram_api.say(CHAT, "hello")
    [call] = await telegram_api.wait_sent(CHAT, 1)

    assert call.params["text"] == (
        "&lt;script&gt;alert('hi')&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt; 3 &lt; 4"
    )
    [message] = telegram_api.sent_messages(CHAT)
    assert message["text"] == nasty  # the carer sees the characters, nothing is interpreted


async def test_crisis_command_works_with_rasa_stopped(telegram_api, rasa, start_bridge):
    await rasa.stop()
    await start_bridge(rasa_attempts=1)

    telegram_api.say(CHAT, "/crisis")
    [call] = await telegram_api.wait_sent(CHAT, 1)

    assert shown(call) == crisis_text()
    assert "999" in shown(call) and "116 123" in shown(call)
    assert rasa.requests == []


async def test_crisis_command_never_asks_rasa(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, "/crisis")
    [call] = await telegram_api.wait_sent(CHAT, 1)
    await telegram_api.settle()
    assert shown(call) == crisis_text()
    assert rasa.requests == []


async def test_rasa_down_gives_a_friendly_message_with_crisis_numbers(
    telegram_api, rasa, start_bridge
):
    await rasa.stop()
    await start_bridge()

    telegram_api.say(CHAT, "how do I book a visit?")
    [call] = await telegram_api.wait_sent(CHAT, 1)

    assert shown(call) == f"{message('service_problem').text}\n\n{crisis_text()}"


async def test_empty_reply_from_rasa_is_a_failure_not_silence(telegram_api, rasa, start_bridge):
    rasa.reply = lambda body: []
    await start_bridge()

    telegram_api.say(CHAT, "how do I book a visit?")
    [call] = await telegram_api.wait_sent(CHAT, 1)
    await telegram_api.settle()

    assert shown(call) == f"{message('service_problem').text}\n\n{crisis_text()}"
    assert len(rasa.requests) == 1  # not re-sent: Rasa may already have recorded the turn


async def test_slow_rasa_shows_typing_then_the_failure_message(telegram_api, rasa, start_bridge):
    async def slow(body: dict[str, Any]) -> list[dict[str, Any]]:
        await asyncio.sleep(3)
        return reply("too late")

    rasa.reply = slow
    await start_bridge(rasa_timeout=1.0)

    telegram_api.say(CHAT, "hello")
    [call] = await telegram_api.wait_sent(CHAT, 1)

    assert shown(call).startswith(message("service_problem").text)
    assert "sendChatAction" in telegram_api.methods()
    assert len(rasa.requests) == 1


async def test_rasa_errors_are_retried_with_backoff(telegram_api, rasa, start_bridge):
    answers = iter([(503, {}), (502, {}), reply("third time lucky")])
    rasa.reply = lambda body: next(answers)
    await start_bridge(rasa_attempts=3)

    telegram_api.say(CHAT, "hello")
    [call] = await telegram_api.wait_sent(CHAT, 1)

    assert shown(call) == "third time lucky"
    assert len(rasa.requests) == 3


async def test_raw_chat_id_never_reaches_rasa_or_the_logs(
    telegram_api, rasa, start_bridge, caplog, bridge_config
):
    caplog.set_level(logging.DEBUG)
    rasa.reply = lambda body: [] if body["message"] == "fail please" else echo(body)
    running = await start_bridge()

    telegram_api.say(CHAT, "hello")
    telegram_api.say(OTHER_CHAT, "hello")
    telegram_api.say(CHAT, "fail please")
    await telegram_api.wait_sent(CHAT, 2)
    await telegram_api.wait_sent(OTHER_CHAT, 1)

    salt = running.config.sender_salt
    senders = [body["sender"] for body in rasa.requests]
    assert sorted(set(senders)) == sorted({sender_id(CHAT, salt), sender_id(OTHER_CHAT, salt)})
    assert senders.count(sender_id(CHAT, salt)) == 2  # the same chat keeps one conversation
    for raw in rasa.raw:
        assert str(CHAT).encode() not in raw and str(OTHER_CHAT).encode() not in raw
    log_text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Rasa answered []" in log_text  # the failure was logged…
    assert str(CHAT) not in log_text and str(OTHER_CHAT) not in log_text  # …without the id
    assert bridge_config.token not in log_text


def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
    return reply(f"You said: {body['message']}")


async def test_rate_limit_with_a_kind_notice(telegram_api, rasa, start_bridge):
    rasa.reply = echo
    await start_bridge(rate_limit=3)

    for n in range(5):
        telegram_api.say(CHAT, f"message {n}")
    await telegram_api.wait_sent(CHAT, 4)
    await telegram_api.settle(0.5)

    shown_texts = [shown(call) for call in telegram_api.sent(CHAT)]
    assert len(rasa.requests) == 3
    assert len(shown_texts) == 4  # three answers and one notice; the fifth is dropped quietly
    notices = [t for t in shown_texts if t.startswith(texts.RATE_LIMITED)]
    assert len(notices) == 1 and crisis_text() in notices[0]

    # another chat is not affected, and /crisis always gets through
    telegram_api.say(OTHER_CHAT, "hello")
    telegram_api.say(CHAT, "/crisis")
    await telegram_api.wait_sent(OTHER_CHAT, 1)
    await telegram_api.wait_sent(CHAT, 5)
    assert shown(telegram_api.sent(CHAT)[-1]) == crisis_text()


@pytest.mark.parametrize(
    "content",
    [
        {"voice": {"file_id": "v1", "file_unique_id": "v1u", "duration": 4}},
        {"photo": [{"file_id": "p1", "file_unique_id": "p1u", "width": 90, "height": 90}]},
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1u",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"document": {"file_id": "d1", "file_unique_id": "d1u", "file_name": "letter.pdf"}},
    ],
    ids=["voice", "photo", "sticker", "document"],
)
async def test_non_text_messages_get_a_text_only_reply(telegram_api, rasa, start_bridge, content):
    await start_bridge()
    telegram_api.push(telegram_api.message_update(CHAT, **content))
    [call] = await telegram_api.wait_sent(CHAT, 1)
    assert shown(call) == message("input_not_text").text
    assert rasa.requests == []


async def test_long_button_payload_goes_through_a_short_key(telegram_api, rasa, start_bridge):
    payload = '/request_local_contacts{"location": "Newcastle upon Tyne and Northumberland"}'
    assert len(payload.encode()) > 64
    rasa.reply = lambda body: (
        reply("Where are you?", buttons=[{"title": "Newcastle", "payload": payload}])
        if body["message"] == "contacts"
        else echo(body)
    )
    await start_bridge()

    telegram_api.say(CHAT, "contacts")
    [call] = await telegram_api.wait_sent(CHAT, 1)
    [[button]] = markup_of(call)
    data = button["callback_data"]
    assert data.startswith(KEY_PREFIX) and len(data.encode()) <= 64

    [question] = telegram_api.sent_messages(CHAT)
    telegram_api.tap(CHAT, question, data)
    await telegram_api.wait_sent(CHAT, 2)
    assert rasa.messages() == ["contacts", payload]


async def test_link_buttons_and_images(telegram_api, rasa, start_bridge):
    film = "https://carers-assistant.invalid/films/visiting"
    picture = "https://carers-assistant.invalid/images/visiting-room.jpg"
    rasa.reply = lambda body: [
        {"recipient_id": "x", "text": "Here is the film about visiting."},
        {"recipient_id": "x", "image": picture},
        {
            "recipient_id": "x",
            "text": "Would you like to watch it?",
            "buttons": [{"title": "Watch the film", "url": film, "type": "web_url"}],
        },
    ]
    await start_bridge()

    telegram_api.say(CHAT, "films")
    calls = await telegram_api.wait_sent(CHAT, 3)

    assert [c.method for c in calls] == ["sendMessage", "sendPhoto", "sendMessage"]
    assert calls[1].params["photo"] == picture
    assert markup_of(calls[2]) == [[{"text": "Watch the film", "url": film}]]


async def test_commands_map_to_intents(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, "/films")
    telegram_api.say(CHAT, "/contacts")
    await telegram_api.wait_sent(CHAT, 2)
    assert rasa.messages() == ["/request_film", "/request_local_contacts"]


async def test_start_adds_the_topic_menu_when_the_welcome_has_none(
    telegram_api, rasa, start_bridge
):
    rasa.reply = lambda body: reply("Hello!") if body["message"] == "/greet" else echo_buttons(body)
    await start_bridge()

    telegram_api.say(CHAT, "/start")
    calls = await telegram_api.wait_sent(CHAT, 2)

    assert rasa.messages() == ["/greet", "/ask_capabilities"]
    assert shown(calls[0]) == "Hello!"
    assert markup_of(calls[1])  # the topic menu


def echo_buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return reply(
        f"You said: {body['message']}",
        buttons=[{"title": "Visiting", "payload": "/ask_visiting"}],
    )


async def test_start_with_buttons_in_the_welcome_asks_once(telegram_api, rasa, start_bridge):
    await start_bridge()  # the default fake reply carries buttons
    telegram_api.say(CHAT, "/start")
    await telegram_api.wait_sent(CHAT, 1)
    await telegram_api.settle()
    assert rasa.messages() == ["/greet"]


async def test_help_shows_capabilities_then_crisis_routes(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, "/help")
    calls = await telegram_api.wait_sent(CHAT, 2)
    assert rasa.messages() == ["/ask_capabilities"]
    assert shown(calls[1]) == crisis_text()


async def test_typed_slash_text_cannot_force_an_intent(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, '/ask_visiting{"hospital": "Rampton"}')
    telegram_api.say(CHAT, "/restart")
    await telegram_api.wait_sent(CHAT, 2)
    assert rasa.messages() == ['ask_visiting{"hospital": "Rampton"}', "restart"]


async def test_forget_asks_then_deletes_through_rasas_api(
    telegram_api, rasa, start_bridge, bridge_config
):
    running = await start_bridge()
    telegram_api.say(CHAT, "/forget")
    [confirm] = await telegram_api.wait_sent(CHAT, 1)
    assert shown(confirm) == texts.FORGET_CONFIRM
    assert rasa.api_calls == []  # nothing happens before the carer says yes

    [question] = telegram_api.sent_messages(CHAT)
    telegram_api.tap(CHAT, question, "#forget:yes")
    calls = await telegram_api.wait_sent(CHAT, 2)

    assert shown(calls[1]) == texts.FORGET_DONE
    sender = sender_id(CHAT, running.config.sender_salt)
    token = {"token": bridge_config.rasa_auth_token}
    assert rasa.api_calls == [
        ("PUT", sender, token, []),
        ("POST", sender, token, [{"event": "restart"}]),
    ]
    assert rasa.requests == []


async def test_forget_no_keeps_the_conversation(telegram_api, rasa, start_bridge):
    await start_bridge()
    telegram_api.say(CHAT, "/forget")
    await telegram_api.wait_sent(CHAT, 1)
    [question] = telegram_api.sent_messages(CHAT)
    telegram_api.tap(CHAT, question, "#forget:no")
    calls = await telegram_api.wait_sent(CHAT, 2)
    assert shown(calls[1]) == texts.FORGET_KEPT
    assert rasa.api_calls == []


async def test_forget_failure_is_reported_honestly(telegram_api, rasa, start_bridge):
    await start_bridge(rasa_auth_token="a-wrong-token")
    telegram_api.say(CHAT, "/forget")
    await telegram_api.wait_sent(CHAT, 1)
    [question] = telegram_api.sent_messages(CHAT)
    telegram_api.tap(CHAT, question, "#forget:yes")
    calls = await telegram_api.wait_sent(CHAT, 2)
    assert shown(calls[1]) == texts.FORGET_FAILED


async def test_group_chats_are_pointed_to_a_private_chat(telegram_api, rasa, start_bridge):
    await start_bridge()
    group = -100123
    telegram_api.push(telegram_api.message_update(group, text="/start", chat_type="group"))
    [call] = await telegram_api.wait_sent(group, 1)
    assert call.params["text"] == texts.PRIVATE_ONLY
    assert rasa.requests == []


async def test_a_picture_telegram_cannot_fetch_becomes_a_link(telegram_api, rasa, start_bridge):
    picture = "http://carers-assistant.invalid/images/map.jpg"  # the fake only fetches https
    rasa.reply = lambda body: [{"recipient_id": "x", "image": picture}]
    await start_bridge()

    telegram_api.say(CHAT, "map please")
    photo, link = await telegram_api.wait_sent(CHAT, 2)  # the fake refused the photo (400)
    await telegram_api.settle()

    assert photo.method == "sendPhoto" and photo.params["photo"] == picture
    assert link.method == "sendMessage" and shown(link) == picture
    assert len(telegram_api.sent(CHAT)) == 2
