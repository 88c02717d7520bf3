"""The widget in real headless Chromium against a scripted fake of Rasa's socketio channel.

These cover what the real bot never sends (HTML and `javascript:` links in bot text, URL
buttons, attachments) and outages we can switch on and off in a moment. The same journeys
against the real Rasa and action servers are in test_web_widget_stack.py.
"""

from __future__ import annotations

import pytest
import widget_driver as w

from bot.web.server import PAGES

pytestmark = pytest.mark.browser


@pytest.fixture
def widget_page(fake_rasa, site_server, new_page):
    """A desktop page of the site whose widget talks to the fake Rasa."""
    site = site_server(fake_rasa.url)
    page, problems = new_page()
    page.goto(site.url + "/")
    return page, problems, site


def test_keyboard_only_open_send_and_close(widget_page, fake_rasa):
    page, problems, _ = widget_page
    w.open_with_keyboard(page)
    assert w.focused_matches(page, w.INPUT), "focus should move to the message box on open"
    assert page.get_attribute(w.LAUNCHER, "aria-expanded") == "true"
    w.wait_until_ready(page)

    before = w.send_by_keyboard(page, "hello there")
    assert "You said: hello there" in w.wait_for_bot_reply(page, before)
    assert w.texts(page, w.USER_MESSAGES)[-1] == "You: hello there"
    assert page.input_value(w.INPUT) == "", "a sent message leaves the box"
    assert fake_rasa.received[-1]["customData"] == {"page": "/"}

    page.keyboard.press("Escape")
    assert page.is_hidden(w.PANEL)
    assert w.focused_matches(page, w.LAUNCHER), "Escape returns focus to the launcher"
    assert page.get_attribute(w.LAUNCHER, "aria-expanded") == "false"
    assert problems.errors == [] and problems.console_errors == []


def test_quick_replies_by_mouse_and_keyboard(widget_page, fake_rasa):
    page, problems, _ = widget_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)

    before = page.locator(w.BOT_MESSAGES).count()
    page.click(".ca-reply:has-text('Visiting')")
    reply = w.wait_for_bot_reply(page, before)
    assert "Visits are booked ahead." in reply
    assert fake_rasa.received[-1]["message"] == "/ask_visiting"
    assert w.texts(page, w.USER_MESSAGES)[-1] == "You: Visiting", (
        "the title is shown, not the payload"
    )
    page.wait_for_selector(".ca-reply:has-text('Children visiting')")
    assert page.locator(".ca-reply:has-text('What staff can tell me')").count() == 0, (
        "used quick replies are removed"
    )
    group = page.locator(".ca-replies")
    assert group.get_attribute("role") == "group"
    assert group.get_attribute("aria-label") == "Suggested replies"

    page.focus(w.INPUT)
    before = page.locator(w.BOT_MESSAGES).count()
    w.tab_to(page, ".ca-reply:has-text('Children visiting')", limit=5, key="Shift+Tab")
    page.keyboard.press("Space")
    assert "best interests" in w.wait_for_bot_reply(page, before)
    assert fake_rasa.received[-1]["message"] == "/ask_visiting_children"
    assert problems.errors == [] and problems.console_errors == []


def test_reload_keeps_the_conversation_and_the_session(widget_page, fake_rasa):
    page, problems, _ = widget_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    before = w.send_by_keyboard(page, "remember me")
    w.wait_for_bot_reply(page, before)
    page.fill(w.INPUT, "half-typed question")
    first_session = fake_rasa.received[-1]["session_id"]

    page.reload()
    page.wait_for_selector(w.PANEL, state="visible")  # it was open, so it opens again
    w.wait_until_ready(page)
    assert "You: remember me" in w.texts(page, w.USER_MESSAGES)
    assert any("You said: remember me" in t for t in w.texts(page, w.BOT_MESSAGES))
    assert page.input_value(w.INPUT) == "half-typed question", "the draft survives a reload"
    assert fake_rasa.session_requests[-1] == first_session, "the same Rasa session is resumed"
    stored = page.evaluate("() => Object.keys(window.localStorage)")
    assert stored == [], "nothing is kept in localStorage (shared family devices)"
    assert problems.errors == [] and problems.console_errors == []


def test_start_again_forgets_the_conversation(widget_page, fake_rasa):
    page, problems, _ = widget_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    before = w.send_by_keyboard(page, "something private")
    w.wait_for_bot_reply(page, before)
    old_session = fake_rasa.received[-1]["session_id"]

    page.click(".ca-panel button:has-text('Start again')")
    assert w.focused_matches(page, w.INPUT)
    assert "new conversation" in page.text_content(w.STATUS)
    assert w.texts(page, w.USER_MESSAGES) == []
    assert "something private" not in page.text_content(w.LOG)
    w.wait_until_ready(page)
    assert fake_rasa.session_requests[-1] is None, "a new session is asked for"
    stored = page.evaluate("() => JSON.stringify(sessionStorage)")
    assert "something private" not in stored and old_session not in stored

    before = w.send_by_keyboard(page, "hello again")
    w.wait_for_bot_reply(page, before)
    assert fake_rasa.received[-1]["session_id"] != old_session
    assert problems.errors == []


def test_bot_html_and_javascript_links_are_shown_as_text(widget_page):
    page, problems, _ = widget_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    before = w.send_by_keyboard(page, "nasty bot")
    page.wait_for_function(
        "n => document.querySelectorAll('.ca-msg-bot').length >= n + 4", arg=before
    )
    log = page.locator(w.LOG)
    assert log.locator("img, b, script").count() == 0, "bot HTML must not become elements"
    assert '<img src=x onerror="window.__xss=1"> <b>bold</b>' in log.text_content()
    assert page.evaluate("() => window.__xss") is None

    hrefs = log.locator("a").evaluate_all("els => els.map(a => a.href)")
    assert all(h.startswith("https://") for h in hrefs), hrefs
    assert "https://www.samaritans.org/" in hrefs, "bare https URL and URL button become links"
    assert "https://giveusashout.org/logo.png" in hrefs, "an image attachment becomes a link"
    for link in log.locator("a").all():
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert "(opens in a new tab)" in link.text_content()
    assert "javascript:window.__xss=2" in log.text_content(), "a javascript: link stays text"
    assert log.locator(".ca-reply:has-text('Bad')").count() == 1, "a non-URL payload is a reply"

    # What the user types is text too.
    page.fill(w.INPUT, "<img src=x onerror=alert(1)>")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ca-msg-user')].some(m =>"
        " m.textContent.includes('<img src=x onerror=alert(1)>'))"
    )
    page.wait_for_timeout(500)
    assert log.locator("img").count() == 0
    assert problems.dialogs == []
    assert problems.errors == []


def test_server_down_keeps_the_draft_and_reconnects(widget_page, fake_rasa):
    page, problems, _ = widget_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)

    fake_rasa.stop()
    page.wait_for_selector(".ca-status-error")
    assert "not available" in page.text_content(w.STATUS)
    page.fill(w.INPUT, "are you there?")
    page.keyboard.press("Enter")
    assert page.input_value(w.INPUT) == "are you there?", "the draft is kept"
    assert "has not been sent" in page.text_content(w.STATUS)
    assert w.texts(page, w.USER_MESSAGES) == [], "an unsent message is not shown as sent"

    fake_rasa.start()
    page.wait_for_function(
        "() => document.querySelector('.ca-status').textContent.includes('available again')",
        timeout=30_000,
    )
    page.focus(w.INPUT)
    page.keyboard.press("Enter")
    assert "You said: are you there?" in w.wait_for_bot_reply(page, 1)
    assert page.input_value(w.INPUT) == ""
    assert problems.errors == []


def test_urgent_help_works_with_no_server(site_server, new_page):
    site = site_server("http://127.0.0.1:9")  # nothing listens on port 9
    page, problems = new_page()
    page.goto(site.url + "/films")
    page.wait_for_selector(w.URGENT)
    w.tab_to(page, w.URGENT)
    page.keyboard.press("Enter")
    dialog = page.locator(w.DIALOG)
    dialog.wait_for(state="visible")
    text = dialog.text_content()
    for route in ("999", "111", "option 2", "press 2", "NHS 24", "116 123", "SHOUT", "85258"):
        assert route in text, route
    assert dialog.locator("a[href='tel:999']").count() == 1
    assert dialog.locator("a[href='tel:116123']").count() == 1
    assert dialog.locator("a[href='sms:85258']").count() == 1
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert w.focused_matches(page, w.URGENT), "focus returns to the Urgent help button"

    # The chat itself says clearly that it cannot connect.
    page.click(w.LAUNCHER)
    page.wait_for_selector(".ca-root[data-state=down]", state="attached")
    assert "not available" in page.text_content(w.STATUS)
    assert problems.errors == []


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(320, 568, 1), (640, 400, 2)],  # 320 px wide; a 1280 x 800 screen at 200% zoom
    ids=["320px", "200pc-zoom"],
)
def test_usable_on_small_screens_and_at_200_percent_zoom(
    fake_rasa, site_server, browser, width, height, scale
):
    site = site_server(fake_rasa.url)
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    try:
        page = context.new_page()
        page.goto(site.url + "/carers")
        page.click(w.LAUNCHER)
        w.wait_until_ready(page)
        page.click(".ca-reply:has-text('Visiting')")
        page.wait_for_selector(".ca-reply:has-text('Travel')")
        no_sideways_scroll = page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        assert no_sideways_scroll, "the page must reflow without horizontal scrolling"
        for selector in (w.INPUT, ".ca-send", w.URGENT, w.LAUNCHER, ".ca-panel .ca-quiet"):
            for box in [
                b
                for b in page.locator(selector).evaluate_all(
                    "els => els.map(e => e.getBoundingClientRect().toJSON())"
                )
            ]:
                assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
                assert box["x"] + box["width"] <= width + 0.5, (selector, box)
                assert box["y"] + box["height"] <= height + 0.5, (selector, box)
                assert box["width"] >= 24 and box["height"] >= 24, (selector, box)
    finally:
        context.close()


def test_typing_indicator_shows_until_the_reply(widget_page):
    page, _, _ = widget_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    typing = page.locator(".ca-typing")
    assert typing.is_hidden()
    before = w.send_by_keyboard(page, "slow question")
    typing.wait_for(state="visible")
    assert typing.text_content().startswith("The assistant is typing")
    assert typing.get_attribute("aria-live") is None, "replies are announced once, by the log"
    w.wait_for_bot_reply(page, before)
    assert typing.is_hidden()


def test_reduced_motion_stops_the_typing_animation(widget_page):
    page, _, _ = widget_page  # new_page() emulates prefers-reduced-motion: reduce
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    page.evaluate("() => { document.querySelector('.ca-typing').hidden = false; }")
    assert (
        page.evaluate(
            "() => getComputedStyle(document.querySelector('.ca-dots span')).animationName"
        )
        == "none"
    )


@pytest.mark.parametrize("path", [page.path for page in PAGES])
def test_no_serious_axe_violations_on_any_page_with_the_widget_open(
    fake_rasa, site_server, new_page, axe_audit, path
):
    site = site_server(fake_rasa.url)
    page, problems = new_page()
    page.goto(site.url + path)
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    page.click(".ca-reply:has-text('Visiting')")
    page.wait_for_selector(".ca-reply:has-text('Travel')")
    violations = axe_audit(page)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    assert problems.console_errors == [], "e.g. a Content-Security-Policy violation"
