"""Drive the chat widget in a Playwright page the way a keyboard or mouse user would."""

from __future__ import annotations

from typing import Any

LAUNCHER = ".ca-launcher"
URGENT = ".ca-urgent"
PANEL = ".ca-panel"
LOG = ".ca-panel [role=log]"
INPUT = ".ca-input"
STATUS = ".ca-status"
BOT_MESSAGES = ".ca-msg-bot"
USER_MESSAGES = ".ca-msg-user"
DIALOG = "dialog.ca-dialog"


def focused_matches(page: Any, selector: str) -> bool:
    """Whether the focused element matches `selector` (Playwright selectors allowed)."""
    return bool(page.locator(selector).evaluate_all("els => els.includes(document.activeElement)"))


def tab_to(page: Any, selector: str, limit: int = 80, key: str = "Tab") -> int:
    """Press Tab (or `key`, e.g. Shift+Tab) until `selector` has focus; return the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if focused_matches(page, selector):
            return presses
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


def open_with_keyboard(page: Any) -> None:
    """Tab from the top of the page to the launcher and press Enter."""
    page.wait_for_selector(LAUNCHER)
    tab_to(page, LAUNCHER)
    page.keyboard.press("Enter")
    page.wait_for_selector(PANEL, state="visible")


def wait_until_ready(page: Any) -> None:
    """Wait until Rasa has confirmed the session (the widget's data-state is "ready")."""
    page.wait_for_selector(".ca-root[data-state=ready]", state="attached")


def texts(page: Any, selector: str) -> list[str]:
    """Text content (what a screen reader reads, hidden "You:"/"Assistant:" labels included)."""
    return page.locator(selector).all_text_contents()


def send_by_keyboard(page: Any, text: str) -> int:
    """Type into the focused input and press Enter; return how many bot messages there were."""
    before = page.locator(BOT_MESSAGES).count()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    return before


def wait_for_bot_reply(page: Any, before: int, timeout: float = 30_000) -> str:
    """Wait for a bot message after the first `before` ones; return the new messages' text."""
    page.wait_for_function(
        "n => document.querySelectorAll('.ca-msg-bot').length > n", arg=before, timeout=timeout
    )
    page.wait_for_timeout(300)  # Rasa sends a response's parts as separate events
    return "\n".join(texts(page, BOT_MESSAGES)[before:])
