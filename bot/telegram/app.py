"""Building the PTB ``Application`` and running it (polling or webhook) with clean shutdown.

``serve`` is what ``python -m bot.telegram`` runs and what the tests run, against a fake Bot
API, so the tested start-up (commands registered, webhook set or removed) is the real one.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder

from bot.telegram import texts
from bot.telegram.config import BridgeConfig
from bot.telegram.handlers import BRIDGE_KEY, Bridge
from bot.telegram.rasa_client import RasaClient
from bot.telegram.webhook import WebhookServer

LOGGER = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
CONCURRENT_UPDATES = 16


def quiet_loggers() -> None:
    """Keep the token and chat ids out of the logs.

    httpx logs every request URL at INFO, and Bot API URLs contain the token (and Rasa API
    URLs the auth token); PTB's DEBUG lines include the API URL and request parameters
    such as chat ids. So these loggers never go below WARNING / INFO, whatever the level.
    """
    floor = logging.getLogger().getEffectiveLevel()
    for name, level in (("httpx", logging.WARNING), ("httpcore", logging.WARNING)):
        logging.getLogger(name).setLevel(max(level, floor))
    for name in ("telegram", "aiohttp.access"):
        logging.getLogger(name).setLevel(max(logging.INFO, floor))


def build_application(
    config: BridgeConfig, *, rasa: RasaClient | None = None, webhook: bool | None = None
) -> Application:
    """The PTB application with the bridge's handlers installed."""
    quiet_loggers()
    use_webhook = bool(config.webhook_url) if webhook is None else webhook
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .concurrent_updates(CONCURRENT_UPDATES)
        # Rasa's APScheduler 3.9 is importable, so PTB would start a JobQueue on a version its
        # job-queue extra does not support. The bridge schedules nothing: switch it off.
        .job_queue(None)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url)
    if use_webhook:
        builder = builder.updater(None)
    application = builder.build()
    rasa = rasa or RasaClient(
        config.rasa_url,
        timeout=config.rasa_timeout,
        attempts=config.rasa_attempts,
        backoff=config.rasa_backoff,
        auth_token=config.rasa_auth_token,
    )
    Bridge(config, rasa).install(application)
    return application


@contextlib.asynccontextmanager
async def serve(
    application: Application, config: BridgeConfig
) -> AsyncIterator[WebhookServer | None]:
    """Start the bridge; yield the webhook server (None when polling); stop it all on exit."""
    bridge: Bridge = application.bot_data[BRIDGE_KEY]
    server: WebhookServer | None = None
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(bridge.aclose)
        await application.initialize()
        stack.push_async_callback(application.shutdown)
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in texts.COMMANDS])
        await application.start()
        stack.push_async_callback(application.stop)
        if application.updater is None:
            # A secret made per run is fine: setWebhook sends the new one to Telegram each start.
            secret = config.webhook_secret or secrets.token_urlsafe(32)
            server = WebhookServer(
                application,
                secret=secret,
                path=config.webhook_path,
                listen=config.webhook_listen,
                port=config.webhook_port,
            )
            await server.start()
            stack.push_async_callback(server.stop)
            await application.bot.set_webhook(
                config.webhook_url or "",
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            LOGGER.info("Telegram bridge running with a webhook")
        else:
            await application.updater.start_polling(
                timeout=int(config.poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
            stack.push_async_callback(application.updater.stop)
            LOGGER.info("Telegram bridge running (long polling)")
        yield server
