"""The bridge's settings, read from the environment (and a few command-line overrides).

Secrets (the bot token, the sender salt, Rasa's API token) are kept out of ``repr`` so that a
logged or printed config can never leak them.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.content import REPO_ROOT

DEFAULT_RASA_URL = "http://localhost:5005"
DEFAULT_SALT_FILE = REPO_ROOT / "var" / "telegram_sender_salt"
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in a webhook secret token.
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(ValueError):
    """The bridge cannot start with these settings; the message says what to set."""


@dataclass(frozen=True)
class BridgeConfig:
    """Everything the bridge needs to run; build it with :func:`load_config`."""

    token: str = field(repr=False)
    sender_salt: bytes = field(repr=False)
    rasa_url: str = DEFAULT_RASA_URL
    rasa_auth_token: str | None = field(default=None, repr=False)
    base_url: str | None = None
    rasa_timeout: float = 30.0
    rasa_attempts: int = 3
    rasa_backoff: float = 0.5
    rate_limit: int = 20
    rate_window: float = 60.0
    poll_timeout: float = 10.0
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)

    @property
    def webhook_path(self) -> str:
        """The path Telegram POSTs to: the path of the public webhook URL."""
        if not self.webhook_url:
            return "/"
        return urlsplit(self.webhook_url).path or "/"


def _salt(env: Mapping[str, str], salt_file: Path) -> bytes:
    """The salt from ``TELEGRAM_SENDER_SALT``, else from (or newly written to) ``salt_file``.

    A salt that changed between runs would split every carer's conversation in two, so a
    generated one is kept on disk (``var/`` is ignored by git) rather than made per run.
    """
    value = env.get("TELEGRAM_SENDER_SALT", "").strip()
    if value:
        if len(value) < 16:
            raise ConfigError("TELEGRAM_SENDER_SALT is too short: use at least 16 characters")
        return value.encode("utf-8")
    if salt_file.is_file():
        stored = salt_file.read_text(encoding="utf-8").strip()
        if len(stored) >= 16:
            return stored.encode("utf-8")
        raise ConfigError(f"{salt_file} is too short: delete it or set TELEGRAM_SENDER_SALT")
    salt_file.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_hex(32)
    fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generated + "\n")
    return generated.encode("utf-8")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise ConfigError(f"{name} should be a number, got {raw!r}") from err
    if value < minimum:
        raise ConfigError(f"{name} should be at least {minimum:g}, got {raw!r}")
    return value


def _http_url(value: str, name: str, https: bool = False) -> str:
    parts = urlsplit(value)
    schemes = ("https",) if https else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc:
        wanted = "an https:// URL" if https else "an http(s):// URL"
        raise ConfigError(f"{name} should be {wanted}, got {value!r}")
    return value.rstrip("/") if not https else value


def load_config(
    env: Mapping[str, str] | None = None,
    *,
    rasa_url: str | None = None,
    webhook_url: str | None = None,
    webhook_port: int | None = None,
    webhook_listen: str | None = None,
    salt_file: Path | None = None,
) -> BridgeConfig:
    """Read the settings; keyword arguments (from the command line) win over the environment."""
    env = os.environ if env is None else env
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram, then "
            "run: export TELEGRAM_BOT_TOKEN='<the token BotFather gave you>' (see docs/telegram.md)"
        )
    if not TOKEN_RE.match(token):
        # Say what is wrong without echoing the value: it may be a real token with a typo.
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits:letters)")

    base_url = env.get("TELEGRAM_BASE_URL", "").strip() or None
    if base_url:
        base_url = _http_url(base_url, "TELEGRAM_BASE_URL")
        if urlsplit(base_url).path in ("", "/"):
            # PTB appends the token straight after base_url, as in https://api.telegram.org/bot<T>
            base_url += "/bot"

    hook_url = webhook_url or env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
    if hook_url:
        hook_url = _http_url(hook_url, "--webhook-url / TELEGRAM_WEBHOOK_URL", https=True)
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
    if secret and not SECRET_RE.match(secret):
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET may only hold 1-256 of the characters A-Z a-z 0-9 _ -"
        )
    port = webhook_port
    if port is None:
        port = int(_number(env, "TELEGRAM_WEBHOOK_PORT", 8443, 1))
    if not 0 <= port <= 65535:
        raise ConfigError(f"--webhook-port should be a TCP port, got {port}")

    return BridgeConfig(
        token=token,
        sender_salt=_salt(env, salt_file or DEFAULT_SALT_FILE),
        rasa_url=_http_url(
            rasa_url or env.get("RASA_URL", "").strip() or DEFAULT_RASA_URL, "RASA_URL"
        ),
        rasa_auth_token=env.get("RASA_AUTH_TOKEN", "").strip() or None,
        base_url=base_url,
        rasa_timeout=_number(env, "TELEGRAM_RASA_TIMEOUT", 30.0, 1.0),
        rate_limit=int(_number(env, "TELEGRAM_RATE_LIMIT", 20, 1)),
        webhook_url=hook_url,
        webhook_listen=webhook_listen
        or env.get("TELEGRAM_WEBHOOK_LISTEN", "").strip()
        or "127.0.0.1",
        webhook_port=port,
        webhook_secret=secret,
    )
