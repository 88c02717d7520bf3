"""The review in the terminal: one question per group, then one per text, then the summary.

Input and output are passed in (``read_line``, ``write``), so the whole conversation is the
same in a real terminal and in tests. Nothing is written until the end, and nothing at all
with ``--dry-run``; Ctrl-C stops without saving, ``q`` or Ctrl-D saves what was decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.review.checks import Context, check_text
from bot.review.groups import Group
from bot.review.labels import OUT_OF_SCOPE, TrainingIndex, resolve
from bot.review.queue import REASONS, display_text
from bot.review.save import NeedsAnswer

ReadLine = Callable[[str], str]
Write = Callable[[str], None]

CHOICE_PROMPT = "Your choice: "
KEEP_PROMPT = "Keep it? "
EDIT_PROMPT = "New text: "
CHOICES = (
    "  1-3 take a guess · or type an intent name · o out of scope · n needs a new answer\n"
    "  s skip · l list intents · q save and stop"
)


class Quit(Exception):
    """The staff member asked to stop (q or end of input): save what was decided."""


@dataclass
class Decisions:
    """What a review decided, before anything is saved."""

    examples: dict[str, list[str]] = field(default_factory=dict)  # label -> confirmed texts
    needs_answer: list[NeedsAnswer] = field(default_factory=list)
    assigned: int = 0
    out_of_scope: int = 0
    skipped: int = 0
    not_reached: int = 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe_group(group: Group, number: int, total: int) -> list[str]:
    """A group as shown in the review and by ``--list``."""
    reasons = group.reasons
    why = ", ".join(f"{reason} {reasons[reason]}" for reason in REASONS if reasons[reason])
    lines = [f"Group {number} of {total}: {_plural(len(group.items), 'message')} ({why})"]
    for text, count in group.texts:
        lines.append(f'  "{text}"' + (f" (x{count})" if count > 1 else ""))
    guesses = "  ".join(
        f"{i}) {guess.label} {guess.confidence:.2f}" for i, guess in enumerate(group.guesses, 1)
    )
    lines.append(f"  Best guesses: {guesses or '-'}")
    if group.chosen:
        chosen = ", ".join(f"{label} ({count})" for label, count in group.chosen.most_common())
        lines.append(f"  Carers chose: {chosen}")
    return lines


class Reviewer:
    """Asks about each group, then about each of its texts."""

    def __init__(
        self,
        groups: Sequence[Group],
        labels: Sequence[str],
        index: TrainingIndex,
        read_line: ReadLine,
        write: Write,
    ) -> None:
        self.groups = groups
        self.labels = list(labels)
        self.index = index
        self.context = Context(index.places, index.words)
        self.read_line = read_line
        self.write = write
        self.decisions = Decisions()

    def _ask(self, prompt: str) -> str:
        try:
            return self.read_line(prompt)
        except EOFError as stop:
            raise Quit from stop

    def run(self) -> Decisions:
        total = len(self.groups)
        for number, group in enumerate(self.groups, 1):
            self.write("")
            for line in describe_group(group, number, total):
                self.write(line)
            try:
                self._decide(group)
            except Quit:
                self.decisions.not_reached = total - number + 1
                self.write("Stopping here.")
                break
        return self.decisions

    def _decide(self, group: Group) -> None:
        self.write(CHOICES)
        while True:
            answer = self._ask(CHOICE_PROMPT).strip()
            lowered = answer.casefold()
            if lowered == "q":
                raise Quit
            if lowered == "s":
                self.decisions.skipped += 1
                self.write("  -> skipped (offered again next time)")
                return
            if lowered == "l":
                self.write("  " + ", ".join(self.labels))
                continue
            if lowered == "n":
                self._needs_answer(group)
                return
            label = self._label(answer, group)
            if label is not None:
                self._assign(group, label)
                return

    def _label(self, answer: str, group: Group) -> str | None:
        """The label an answer names, or None after saying why not."""
        if answer.casefold() == "o":
            return OUT_OF_SCOPE
        if answer.isdigit() and 1 <= int(answer) <= len(group.guesses):
            answer = group.guesses[int(answer) - 1].label
        if not answer:
            self.write(CHOICES)
            return None
        label, suggestions = resolve(answer, self.labels)
        if label is None:
            hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
            self.write(f"  '{answer}' is not an intent or answer I can assign.{hint}")
        return label

    def _assign(self, group: Group, label: str) -> None:
        kept = self._confirm_texts(group, label)
        if label == OUT_OF_SCOPE:
            self.decisions.out_of_scope += 1
        else:
            self.decisions.assigned += 1
        if kept:
            self.decisions.examples.setdefault(label, []).extend(kept)
        self.write(f"  -> {label}: {_plural(len(kept), 'example')}")

    def _needs_answer(self, group: Group) -> None:
        kept = self._confirm_texts(group, None)
        if not kept:
            self.write("  -> nothing noted (every text was left out)")
            return
        guesses = [guess.label for guess in group.guesses]
        self.decisions.needs_answer.append(NeedsAnswer(kept, len(group.items), guesses))
        self.write("  -> noted for the content owner")

    def _confirm_texts(self, group: Group, label: str | None) -> list[str]:
        kept: list[str] = []
        texts = group.texts
        for number, (text, _count) in enumerate(texts, 1):
            confirmed = self._confirm(text, number, len(texts), label)
            if confirmed is not None and confirmed not in kept:
                kept.append(confirmed)
        return kept

    def _confirm(self, text: str, number: int, total: int, label: str | None) -> str | None:
        """Keep, edit or leave out one text; returns the text to save, or None."""
        while True:
            self.write(f'  Text {number} of {total}: "{text}"')
            existing = self.index.label_of(text) if label is not None else None
            if existing == label and existing is not None:
                self.write(f"    already an example of {label}: nothing to add")
                return None
            if existing is not None:
                self.write(
                    f"    already an example of {existing} in the training data: left out "
                    "(one text cannot belong to two intents)"
                )
                return None
            warnings = check_text(text, self.context)
            for warning in warnings:
                self.write(f"    ! {warning}")
            masked = any(warning.kind == "masked detail" for warning in warnings)
            if masked:
                self.write("    A masked detail cannot be saved: e edits it, x leaves it out")
            else:
                self.write("    Enter keeps it, e edits it, x leaves it out")
            answer = self._ask(KEEP_PROMPT).strip().casefold()
            if answer == "x":
                return None
            if answer == "e":
                edited = display_text(self._ask(EDIT_PROMPT))
                if edited:
                    text = edited
                continue
            if answer == "" and not masked:
                return text


def summary(
    decisions: Decisions,
    gains: dict[str, int],
    noted: int,
    totals: Counter[str],
    reviewed_path: str,
    needs_path: str,
    dry_run: bool,
) -> list[str]:
    """What was saved (or would be, with --dry-run) and what to run next."""
    verb = "Would add" if dry_run else "Added"
    lines = [""]
    if dry_run:
        lines.append("Dry run: nothing was saved.")
    if gains:
        lines.append(f"{verb} {_plural(sum(gains.values()), 'example')} to {reviewed_path}:")
        width = max(len(label) for label in gains)
        for label in sorted(gains):
            now = totals[label] + gains[label]
            lines.append(f"  {label:<{width}}  +{gains[label]}  ({now} examples in all)")
    else:
        lines.append("No new training examples.")
    if noted:
        noting = "Would note" if dry_run else "Noted"
        lines.append(
            f"{noting} {_plural(noted, 'question')} for the content owner in {needs_path}."
        )
    if decisions.skipped or decisions.not_reached:
        later = decisions.skipped + decisions.not_reached
        lines.append(f"{_plural(later, 'group')} left for another review.")
    if gains and not dry_run:
        lines.append(
            "Next: run `make test`. It retrains the model with these examples and checks them "
            f"(rasa data validate); then commit {reviewed_path}."
        )
    elif gains:
        lines.append("Run again without --dry-run to save them; then `make test` retrains.")
    return lines
