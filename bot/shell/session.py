"""The staff shell's loop: read a line, send it through the guarded REST channel, print.

Everything typed is sent as a carer's message would be — empty lines, ``/restart``, markup —
so staff see the channel's own answers too. Only two things stay in the shell: a number that
matches a button of the last reply sends that button's payload (a carer's tap), and ``/stop``
or Ctrl-D ends the session.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from bot.shell.client import ShellClient, ShellError
from bot.shell.render import Button, explain, render_explanation, render_replies

PROMPT = "Your input -> "
STOP = "/stop"
BANNER = (
    "Carers' Assistant, staff shell. Messages go through the same guarded channel as carers'.\n"
    "Type as a carer would; a number chooses a button. /stop or Ctrl-D to quit."
)
EXPLAIN_NOTE = "Explaining each reply (staff only: carers never see these lines)."

ReadLine = Callable[[str], str]
Write = Callable[[str], None]


def _chosen(line: str, buttons: Sequence[Button]) -> Button | None:
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return buttons[int(stripped) - 1]
    return None


def run(
    client: ShellClient,
    explain_replies: bool = False,
    read_line: ReadLine = input,
    write: Write = print,
) -> int:
    """Chat until /stop or end of input; return an exit code."""
    write(BANNER)
    previous_time: float | None = None
    if explain_replies:
        write(EXPLAIN_NOTE)
        try:
            previous_time = client.tracker().get("latest_event_time")
        except ShellError as err:
            write(f"Cannot explain replies: {err}")
            return 1
    buttons: list[Button] = []
    while True:
        try:
            line = read_line(PROMPT)
        except EOFError:
            write("")
            return 0
        if line.strip() == STOP:
            return 0
        button = _chosen(line, buttons)
        if button is not None and button.is_link:
            write(f"(a carer's screen opens {button.payload})")
            continue
        text = button.payload if button is not None else line
        if button is not None:
            write(f"(tapped '{button.title}': sends {button.payload})")
        try:
            rendered = render_replies(client.send(text))
        except ShellError as err:
            write(f"!! {err}")
            continue
        for out in rendered.lines:
            write(out)
        buttons = rendered.buttons
        if explain_replies:
            try:
                tracker = client.tracker()
            except ShellError as err:
                write(f"   why: not available ({err})")
                continue
            for out in render_explanation(explain(tracker, previous_time)):
                write(out)
            previous_time = tracker.get("latest_event_time")


def interactive(client: ShellClient, explain_replies: bool) -> int:
    """:func:`run` on this terminal, with line editing and history when there is a terminal."""
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - importing it gives input() editing and history
    try:
        return run(client, explain_replies)
    except KeyboardInterrupt:
        print()
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.shell``: talk to an assistant that is already running."""
    parser = argparse.ArgumentParser(prog="python -m bot.shell", description=BANNER.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005", help="Rasa's address")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="show why each reply was chosen (needs RASA_AUTH_TOKEN, Rasa's API token)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("RASA_AUTH_TOKEN") or None
    if args.explain and not token:
        print("--explain needs RASA_AUTH_TOKEN (the token Rasa was started with)", file=sys.stderr)
        return 2
    return interactive(ShellClient(args.url, token=token), args.explain)
