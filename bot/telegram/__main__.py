"""``python -m bot.telegram`` (``make telegram``): run the Telegram bridge until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from telegram.error import InvalidToken, NetworkError

from bot.content import ContentError
from bot.telegram.app import build_application, quiet_loggers, serve
from bot.telegram.config import BridgeConfig, ConfigError, load_config

LOGGER = logging.getLogger("bot.telegram")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.telegram",
        description="Carers' Assistant on Telegram: forwards chats to Rasa's REST channel.",
        epilog="Settings come from the environment; see docs/telegram.md.",
    )
    parser.add_argument("--rasa-url", help="Rasa server (default: $RASA_URL or :5005)")
    parser.add_argument(
        "--webhook-url",
        help="public https URL Telegram should POST to (default: long polling)",
    )
    parser.add_argument(
        "--webhook-port", type=int, help="local port of the webhook server (default 8443)"
    )
    parser.add_argument(
        "--webhook-listen", help="local address of the webhook server (default 127.0.0.1)"
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser.parse_args(argv)


async def run(config: BridgeConfig) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    application = build_application(config)
    async with serve(application, config):
        LOGGER.info("Forwarding to Rasa at %s. Press Ctrl-C to stop.", config.rasa_url)
        await stop.wait()
    LOGGER.info("Telegram bridge stopped")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_loggers()
    try:
        config = load_config(
            rasa_url=args.rasa_url,
            webhook_url=args.webhook_url,
            webhook_port=args.webhook_port,
            webhook_listen=args.webhook_listen,
        )
        asyncio.run(run(config))
    except ConfigError as err:
        print(f"Telegram bridge: {err}", file=sys.stderr)
        return 2
    except ContentError as err:
        print(f"Telegram bridge: cannot read the crisis text: {err}", file=sys.stderr)
        return 2
    except InvalidToken:
        print(
            "Telegram bridge: Telegram rejected TELEGRAM_BOT_TOKEN. Check it with @BotFather.",
            file=sys.stderr,
        )
        return 2
    except NetworkError as err:
        print(f"Telegram bridge: cannot reach Telegram ({err})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
