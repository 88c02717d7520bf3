"""`make review` end to end: a store seeded through the real REST channel, the real encoder,
and a staff member at a pseudo-terminal.

The session's Rasa (``rasa_stack``) writes every test's conversations into one database, so the
conversations seeded here are copied, by their sender ids, into a throw-away SQLite store that
holds nothing else. The review then reads that store exactly as it reads a live one. The seeds
are fallbacks ("did you mean", a give-up), a 👎 vote (after the thanks) on an answer reached by
a "did you mean" tap, a low-confidence answer, crisis messages and a staff-shell test message.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pty_terminal import Terminal
from rasa.shared.nlu.training_data.loading import load_data

from bot.launcher import REPO_ROOT, Stack, child_env
from bot.review.session import CHOICE_PROMPT, EDIT_PROMPT, KEEP_PROMPT

pytestmark = pytest.mark.stack

# Terse, vague messages: the trained model is unsure of them (checked against the model when
# these were chosen; if it learns them, pick new ones).
MONEY = [["cash", "/ask_visiting", "thank you", "/deny"], ["money"], ["money for my son"]]
FOOD = [["food there", "food?", "food there then"]]
DOG = [["doggy"], ["dog?"]]
# A clear topic question, answered, a thank you, then 👎 on "Was this helpful?".
VOTE = [["what rights do I have as a carer", "thank you", "/deny"]]
CRISIS = [
    ["I just want it all to be over"],
    ["my son says he is going to kill himself", "can I take money in for him"],
]
STAFF_TEST = "can I bring my parrot on the ward"
EDITED = "can I take some spending money in for my relative"


@dataclass
class Store:
    url: str
    senders: list[str]
    workdir: Path


def _post(url: str, payload: dict[str, str]) -> list[dict[str, object]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        replies = json.load(response)
    assert isinstance(replies, list) and replies, replies
    return replies


def _copy_conversations(source: Path, target: Path, senders: list[str]) -> None:
    """Copy these senders' events, with the events table's own schema, into a new database."""
    with sqlite3.connect(target) as db:
        db.execute("ATTACH DATABASE ? AS live", (str(source),))
        (schema,) = db.execute(
            "SELECT sql FROM live.sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()
        db.execute(schema)
        marks = ",".join("?" for _ in senders)
        db.execute(
            f"INSERT INTO events SELECT * FROM live.events WHERE sender_id IN ({marks})", senders
        )
        db.commit()
        db.execute("DETACH DATABASE live")


@pytest.fixture(scope="module")
def store(rasa_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Store:
    workdir = tmp_path_factory.mktemp("review")
    senders: list[str] = []
    url = f"{rasa_stack.rasa_url}/webhooks/rest/webhook"
    for conversation in [*MONEY, *FOOD, *DOG, *VOTE, *CRISIS]:
        sender = f"review-{uuid.uuid4().hex}"
        senders.append(sender)
        for message in conversation:
            _post(url, {"sender": sender, "message": message})
    staff = f"review-{uuid.uuid4().hex}"
    senders.append(staff)
    _post(url, {"sender": staff, "message": STAFF_TEST, "input_channel": "cmdline"})
    live = Path(rasa_stack.extra_env["CARERS_TRACKER_DB_URL"].removeprefix("sqlite:///"))
    copy = workdir / "conversations.db"
    _copy_conversations(live, copy, senders)
    return Store(url=f"sqlite:///{copy}", senders=senders, workdir=workdir)


def _review_argv(store: Store, *extra: str) -> list[str]:
    """What `make review` runs, pointed at the throw-away store and files."""
    return [
        sys.executable,
        "-m",
        "bot.review",
        "--since",
        "30d",
        "--db-url",
        store.url,
        "--reviewed",
        str(store.workdir / "reviewed.yml"),
        "--needs-answer",
        str(store.workdir / "needs_answer.yml"),
        *extra,
    ]


def _crisis_texts() -> list[str]:
    return [conversation[0] for conversation in CRISIS]


def test_list_prints_the_queue_without_asking(store: Store) -> None:
    reviewed = store.workdir / "reviewed.yml"
    before = reviewed.read_text(encoding="utf-8") if reviewed.exists() else None
    result = subprocess.run(
        _review_argv(store, "--list"),
        cwd=REPO_ROOT,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert re.search(r"^Review queue since 30d: \d+ messages in \d+ groups", out, re.MULTILINE)
    for text in ("cash", "food there"):
        assert f'"{text}"' in out
    # The seeds are chosen to reach the queue in each way with the trained model; if the model
    # stops falling back on them, pick new ones (the reasons themselves are tested in
    # test_review_parts.py on stored event shapes).
    for reason in ("did you mean", "final fallback", "low confidence", "voted 👎"):
        assert reason in out, f"no seed was queued as {reason!r}:\n{out}"
    assert "Carers chose: ask_visiting" in out
    assert len(re.findall(r"^  Best guesses: 1\) \w+", out, re.MULTILINE)) >= 3
    for never in [*_crisis_texts(), STAFF_TEST, *store.senders, CHOICE_PROMPT]:
        assert never not in out
    assert (reviewed.read_text(encoding="utf-8") if reviewed.exists() else None) == before


def _group_blocks(text: str) -> str:
    """The latest group shown before a choice prompt."""
    return text[text.rindex("Group ") :]


def test_a_review_session_assigns_skips_and_marks_out_of_scope(store: Store) -> None:
    terminal = Terminal(_review_argv(store), REPO_ROOT, child_env())
    decided: dict[str, str] = {}
    try:
        while True:
            seen = terminal.read_until(
                "|".join(re.escape(p) for p in (CHOICE_PROMPT, KEEP_PROMPT, EDIT_PROMPT))
                + r"|Next: run `make test`[^\n]*\n|No new training examples",
                timeout=300,
            )
            if seen.endswith(CHOICE_PROMPT):
                group = _group_blocks(terminal.transcript)
                if "money" in group and "money" not in decided:
                    decided["money"] = "ask_visiting"
                elif "food" in group and "food" not in decided:
                    decided["food"] = "o"
                elif "dog" in group and "dog" not in decided:
                    decided["dog"] = "s"
                else:
                    decided[f"other {len(decided)}"] = "s"
                terminal.type_line(list(decided.values())[-1])
            elif seen.endswith(KEEP_PROMPT):
                editing = "for my son" in seen.rsplit("Text ", 1)[-1]
                terminal.type_line("e" if editing and EDITED not in terminal.transcript else "")
            elif seen.endswith(EDIT_PROMPT):
                terminal.type_line(EDITED)
            else:
                break
        terminal.read_to_end(timeout=60)
    finally:
        terminal.close()
    transcript = terminal.transcript
    assert {"money", "food", "dog"} <= set(decided), transcript[-3000:]
    assert re.search(r"^  ask_visiting\s+\+3 ", transcript, re.MULTILINE), transcript[-2000:]
    assert re.search(r"^  out_of_scope\s+\+3 ", transcript, re.MULTILINE)
    assert "left for another review" in transcript
    for never in [*_crisis_texts(), STAFF_TEST]:
        assert never not in transcript

    saved = store.workdir / "reviewed.yml"
    data = load_data(str(saved))
    examples = {(m.get("text"), m.get_full_intent()) for m in data.training_examples}
    assert examples == {
        ("cash", "ask_visiting"),
        ("money", "ask_visiting"),
        (EDITED, "ask_visiting"),
        ("food there", "out_of_scope"),
        ("food?", "out_of_scope"),
        ("food there then", "out_of_scope"),
    }
    raw = saved.read_text(encoding="utf-8")
    assert set(yaml.safe_load(raw)) == {"version", "nlu"}
    for never in [*store.senders, "review-", "timestamp", *_crisis_texts()]:
        assert never not in raw
    assert not re.search(r"\b1[0-9]{9}\b", raw)  # no Unix times
    assert not (store.workdir / "needs_answer.yml").exists()
