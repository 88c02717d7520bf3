"""Staff see what carers see: `make shell` driven through a real pseudo-terminal.

One shell per module (``bot.launcher --shell --explain``: its own action server and Rasa on
loopback, a throw-away tracker database). Hostile input typed in the shell must get exactly the
replies the REST channel gives a carer in the same conversation state, and the --explain lines
appear only in the shell, never in what a carer's channel receives.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pty_terminal import Terminal

from bot.channels.replies import bad_input_reply
from bot.channels.sanitise import InputKind
from bot.launcher import REPO_ROOT, Stack, child_env, free_port
from bot.shell.session import PROMPT

pytestmark = pytest.mark.stack

TAPPED = re.compile(r"\(tapped '[^']*': sends (\S+)\)")
HOSTILE = [
    "",
    "\u200b\u200b\u200b",
    "/restart",
    "<script>alert('hi')</script>",
    ("can I visit my son on a Sunday afternoon with his grandmother? " * 32)[:2000],
]

Message = tuple[str, tuple[str, ...]]  # (text, button titles)


class ShellDriver:
    """The shell in a pseudo-terminal: type a line, read everything up to the next prompt."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.sent: list[str] = []  # what reached the channel, in order (taps as payloads)

    def say(self, line: str, timeout: float = 120) -> str:
        """Type ``line`` and Enter; return what the shell printed before its next prompt."""
        self.terminal.type_line(line)
        output = self.terminal.read_until(re.escape(PROMPT), timeout)
        tapped = TAPPED.search(output)
        self.sent.append(tapped.group(1) if tapped else line)
        return output


def shell_messages(output: str) -> list[Message]:
    """The bot messages in a stretch of shell output: "Bot:" lines, their continuation lines
    and their numbered buttons."""
    messages: list[tuple[list[str], list[str]]] = []
    explaining = False  # the --explain block under a reply is not part of any message
    for line in output.split("\n"):
        if line.startswith("   why:"):
            explaining = True
        elif line.startswith("Bot: "):
            explaining = False
            messages.append(([line[5:]], []))
        elif explaining:
            continue
        elif messages and line.startswith("     ") and not messages[-1][1]:
            messages[-1][0].append(line[5:])
        elif messages and re.match(r"^  \d+\. ", line):
            title = re.sub(r"^  \d+\. ", "", line).split(" -> ")[0]
            messages[-1][1].append(title)
    return [("\n".join(text), tuple(buttons)) for text, buttons in messages]


def rest_messages(replies: list[dict[str, Any]]) -> list[Message]:
    return [
        (
            reply.get("text", "").strip(),
            tuple(button["title"] for button in reply.get("buttons") or []),
        )
        for reply in replies
    ]


@pytest.fixture(scope="module")
def shell(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShellDriver]:
    workdir = tmp_path_factory.mktemp("shell")
    terminal = Terminal(
        [
            sys.executable,
            "-m",
            "bot.launcher",
            "--shell",
            "--explain",
            "--model",
            str(trained_model),
            "--rasa-port",
            str(free_port()),
            "--actions-port",
            str(free_port()),
        ],
        REPO_ROOT,
        child_env({"CARERS_TRACKER_DB_URL": f"sqlite:///{workdir / 'conversations.db'}"}),
    )
    try:
        terminal.read_until(re.escape(PROMPT), timeout=240)
        yield ShellDriver(terminal)
    finally:
        terminal.close()


def test_staff_chat_with_numbered_buttons_and_explanations(shell: ShellDriver) -> None:
    output = shell.say("can I bring my kids to visit?")
    assert re.search(r"social (care|worker)|parental|child", output, re.IGNORECASE)
    assert re.search(r"^  1\. \S", output, re.MULTILINE), output
    assert "why: intent ask_visiting_children" in output
    # This model's parse data has no risk key yet: the line says so instead of failing.
    assert re.search(r"^\s+risk\s+(-|acute|concern|none)( |$)", output, re.MULTILINE), output
    assert re.search(r"^\s+ran\s+utter_visiting_children", output, re.MULTILINE), output

    tapped = shell.say("1")
    assert TAPPED.search(tapped), tapped
    assert shell.sent[-1].startswith("/ask_")
    assert re.search(r"why: intent ask_\w+ 1\.00", tapped), tapped


def test_hostile_input_gets_the_same_replies_in_the_shell_and_over_rest(
    shell: ShellDriver, rasa_stack: Stack, say: Any
) -> None:
    carer = f"shell-twin-{uuid.uuid4().hex[:10]}"
    for earlier in list(shell.sent):  # bring the REST conversation to the same state
        say(earlier, carer)
    in_shell: dict[str, list[Message]] = {}
    for line in HOSTILE:
        output = shell.say(line)
        over_rest = say(line, carer)
        in_shell[line] = shell_messages(output)
        assert in_shell[line] == rest_messages(over_rest), line[:60]
        # The explanation is the shell's own: nothing of it reaches a carer's channel.
        assert "why:" in output
        assert not any("why:" in reply.get("text", "") for reply in over_rest)
    # The shell really goes through the guard: invisible-only input gets its fixed reply.
    empty = bad_input_reply(InputKind.EMPTY)
    assert empty is not None
    assert in_shell["\u200b\u200b\u200b"] == [(empty["text"], ())]


def test_explain_says_when_the_channel_answered_without_rasa(shell: ShellDriver) -> None:
    output = shell.say("\u200b")
    assert "answered by the channel guard; Rasa was not asked" in output
