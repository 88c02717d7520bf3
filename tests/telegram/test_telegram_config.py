"""Settings, sender hashing, the crisis text loader, the Rasa client and the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys

import pytest
import yaml

from bot.content import REPO_ROOT, ContentError
from bot.content.crisis import crisis_text
from bot.telegram.config import ConfigError, load_config
from bot.telegram.privacy import sender_id
from bot.telegram.rasa_client import RasaClient, RasaEmptyReply, RasaUnavailable

TOKEN = "123456:AAH-test_token"
# The token the fake Bot API (tests/telegram/conftest.py) accepts.
CLI_CHAT = 777123456
TOKEN_OF_FAKE = "123456:TEST-token_for-the-fake-api"
SALT_ENV = {"TELEGRAM_SENDER_SALT": "a-salt-of-at-least-16-chars"}


def test_missing_token_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set.*BotFather"):
        load_config({}, salt_file=tmp_path / "salt")


def test_malformed_token_is_not_echoed(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config({"TELEGRAM_BOT_TOKEN": "12345 secret-ish"}, salt_file=tmp_path / "salt")
    assert "secret-ish" not in str(err.value)


def test_defaults_and_overrides(tmp_path):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, **SALT_ENV, "RASA_URL": "http://rasa.internal:5005/"}
    config = load_config(env, salt_file=tmp_path / "salt")
    assert config.rasa_url == "http://rasa.internal:5005"
    assert config.base_url is None and config.webhook_url is None and config.rate_limit == 20
    config = load_config(
        {**env, "TELEGRAM_BASE_URL": "http://127.0.0.1:8081"},
        rasa_url="http://127.0.0.1:5999",
        webhook_url="https://bot.carers-assistant.invalid/hook",
        webhook_port=8443,
        salt_file=tmp_path / "salt",
    )
    assert config.rasa_url == "http://127.0.0.1:5999"
    assert config.base_url == "http://127.0.0.1:8081/bot"  # PTB appends the token to this
    assert config.webhook_path == "/hook"
    with pytest.raises(ConfigError, match="https"):
        load_config(env, webhook_url="http://insecure.invalid/hook", salt_file=tmp_path / "s")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_config({**env, "TELEGRAM_WEBHOOK_SECRET": "has spaces"}, salt_file=tmp_path / "s")


def test_secrets_stay_out_of_repr(tmp_path):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, **SALT_ENV, "RASA_AUTH_TOKEN": "rasa-api-secret"}
    text = repr(load_config(env, salt_file=tmp_path / "salt"))
    for secret in (TOKEN, SALT_ENV["TELEGRAM_SENDER_SALT"], "rasa-api-secret"):
        assert secret not in text


def test_salt_is_generated_once_and_kept_private(tmp_path):
    salt_file = tmp_path / "var" / "telegram_sender_salt"
    first = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, salt_file=salt_file)
    second = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, salt_file=salt_file)
    assert first.sender_salt == second.sender_salt and len(first.sender_salt) == 64
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    from_env = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, **SALT_ENV}, salt_file=salt_file)
    assert from_env.sender_salt == SALT_ENV["TELEGRAM_SENDER_SALT"].encode()
    with pytest.raises(ConfigError, match="too short"):
        load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_SENDER_SALT": "short"})


def test_sender_id_is_a_keyed_hash():
    salt = b"a-salt-of-at-least-16-chars"
    sender = sender_id(987654321, salt)
    assert sender.startswith("tg-") and len(sender) == 3 + 64
    assert "987654321" not in sender
    assert sender == sender_id(987654321, salt)
    assert sender != sender_id(987654322, salt)
    assert sender != sender_id(987654321, b"another-salt-of-16-chars")


def test_crisis_text_is_the_domains_default_variant():
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    variants = domain["responses"]["utter_crisis"]
    [default] = [v for v in variants if not v.get("condition")]
    assert crisis_text() == default["text"].strip()


def test_crisis_text_missing_default_variant_fails_loudly(tmp_path, monkeypatch):
    broken = tmp_path / "domain.yml"
    conditional = {"condition": [{"type": "slot", "name": "nation", "value": "Wales"}]}
    responses = {"utter_crisis": [{**conditional, "text": "Call 999."}]}
    broken.write_text(yaml.safe_dump({"responses": responses}), encoding="utf-8")
    monkeypatch.setenv("CARERS_DOMAIN_FILE", str(broken))
    with pytest.raises(ContentError, match="no variant without a condition"):
        crisis_text()
    monkeypatch.setenv("CARERS_DOMAIN_FILE", str(tmp_path / "missing.yml"))
    with pytest.raises(ContentError, match="missing domain file"):
        crisis_text()


async def test_rasa_client_failures(rasa):
    client = RasaClient(rasa.url, timeout=2, attempts=2, backoff=0.01)
    try:
        rasa.reply = lambda body: []
        with pytest.raises(RasaEmptyReply):
            await client.send("tg-x", "hello")
        rasa.reply = lambda body: {"not": "a list"}
        with pytest.raises(RasaUnavailable, match="not a list"):
            await client.send("tg-x", "hello")
        rasa.reply = lambda body: (500, {"error": "boom"})
        with pytest.raises(RasaUnavailable, match="HTTP 500"):
            await client.send("tg-x", "hello")
        rasa.reply = lambda body: (503, {})
        with pytest.raises(RasaUnavailable, match="after 2 attempts"):
            await client.send("tg-x", "hello")
        assert len(rasa.requests) == 5  # only the 503 was retried
        with pytest.raises(RasaUnavailable, match="RASA_AUTH_TOKEN"):
            await client.forget("tg-x")
    finally:
        await client.aclose()


def cli_env(env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "RASA_"))}
    return {**clean, "PYTHONPATH": str(REPO_ROOT), **env}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.telegram", *args],
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )


def test_cli_without_token_explains_what_to_do():
    result = run_cli({})
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


async def test_cli_rejected_token_is_not_printed(telegram_api):
    """Telegram (here: the fake) refuses the token: a clear message, and no token in output."""
    env = {
        "TELEGRAM_BOT_TOKEN": "654321:WRONG-token-value",
        "TELEGRAM_BASE_URL": telegram_api.base_url,
        **SALT_ENV,
    }
    # The fake API runs on this test's event loop, so the bridge runs as an async subprocess.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.telegram",
        "--log-level",
        "DEBUG",
        env=cli_env(env),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    output = (stdout + stderr).decode()
    assert proc.returncode == 2, output
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in output
    assert "WRONG-token-value" not in output
    assert telegram_api.rejected == ["getMe"] and telegram_api.calls == []


async def test_cli_serves_until_interrupted(telegram_api, rasa, tmp_path):
    """`make telegram` end to end: start, answer one message, stop cleanly on Ctrl-C."""
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN_OF_FAKE,
        "TELEGRAM_BASE_URL": telegram_api.base_url,
        "RASA_URL": rasa.url,
        **SALT_ENV,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.telegram",
        env=cli_env(env),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await telegram_api.wait_for(
            lambda: "getUpdates" in telegram_api.methods(), timeout=60, what="polling"
        )
        telegram_api.say(CLI_CHAT, "hello")
        [call] = await telegram_api.wait_sent(CLI_CHAT, 1, timeout=30)
        assert call.params["text"] == "You said: hello"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output = (stdout + stderr).decode()
    assert proc.returncode == 0, output
    assert "Telegram bridge stopped" in output
    assert TOKEN_OF_FAKE.split(":")[1] not in output
    assert str(CLI_CHAT) not in output
