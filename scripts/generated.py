"""Writing (or checking) generated files, shared by the scripts that build data/ from content/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def sync(files: dict[Path, str], check: bool, root: Path, script: str) -> int:
    """Write each file whose text differs; with ``check``, only report them (exit code 1)."""
    stale = []
    for path, text in files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(root)}")
    if check and stale:
        names = ", ".join(str(p.relative_to(root)) for p in stale)
        print(f"out of date: {names} - run {script}", file=sys.stderr)
        return 1
    return 0


def main(
    expected: Callable[[], dict[Path, str]],
    description: str,
    root: Path,
    script: str,
    argv: list[str] | None = None,
) -> int:
    """The command line both builders share: rewrite the files, or ``--check`` them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="only check the files are in sync")
    args = parser.parse_args(argv)
    return sync(expected(), args.check, root, script)
