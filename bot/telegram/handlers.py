"""The Telegram side of the bridge: PTB v22 handlers that forward to Rasa and show its replies.

One :class:`Bridge` per process holds the state handlers share (the Rasa client, the
short-key map for long button payloads, the rate limiter, one lock per chat so a chat's
messages reach Rasa in order while other chats are served concurrently).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.content.crisis import crisis_text
from bot.content.messages import message as content_message
from bot.telegram import texts
from bot.telegram.config import BridgeConfig
from bot.telegram.privacy import log_id, sender_id
from bot.telegram.rasa_client import RasaClient, RasaUnavailable
from bot.telegram.ratelimit import RateLimiter, Verdict
from bot.telegram.render import (
    BRIDGE_PREFIX,
    CallbackStore,
    PhotoSend,
    Send,
    TextSend,
    escape,
    plain,
    render,
)

LOGGER = logging.getLogger(__name__)
BRIDGE_KEY = "carers_bridge"
METADATA = {"channel": "telegram"}
TYPING_EVERY = 4.0  # Telegram shows "typing…" for about 5 seconds per action
MAX_RETRY_AFTER = 30.0

DONE_DATA = BRIDGE_PREFIX + "done"
FORGET_YES_DATA = BRIDGE_PREFIX + "forget:yes"
FORGET_NO_DATA = BRIDGE_PREFIX + "forget:no"

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
COMMAND_PREFIX_RE = re.compile(r"^/+([^\s@]*)(@\S*)?")


def user_text(text: str) -> str:
    """What a carer typed, with any leading ``/`` removed.

    Rasa reads ``/intent{...}`` as a forced intent; only the bridge's own commands and
    Rasa's own buttons may do that, never typed text.
    """
    return COMMAND_PREFIX_RE.sub(r"\1", text.strip()).strip()


def _button_title(message: Any, data: str) -> str | None:
    """The title of the button in ``message`` that carries ``data``; None if there is none.

    Only data that is really on the tapped message's keyboard is acted on, so a modified
    client cannot make the bridge send Rasa a payload it never offered.
    """
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


class Bridge:
    """Shared state and the handler callbacks."""

    def __init__(self, config: BridgeConfig, rasa: RasaClient) -> None:
        self.config = config
        self.rasa = rasa
        self.store = CallbackStore()
        self.limiter = RateLimiter(config.rate_limit, config.rate_window)
        # Read at start-up, so missing content fails there and not mid-conversation.
        self.crisis = crisis_text()
        self.text_only = content_message("input_not_text").text
        self.empty = content_message("input_empty").text
        self.unavailable = content_message("service_problem").text
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- wiring ----------------------------------------------------------------------------

    def install(self, application: Application) -> None:
        application.bot_data[BRIDGE_KEY] = self
        commands = {
            "start": self.on_start,
            "help": self.on_help,
            "films": self.on_forward_command,
            "contacts": self.on_forward_command,
            "crisis": self.on_crisis,
            "forget": self.on_forget,
        }
        for name, callback in commands.items():
            application.add_handler(CommandHandler(name, callback, filters=PRIVATE))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(PRIVATE & filters.TEXT, self.on_text))
        application.add_handler(MessageHandler(PRIVATE & ~filters.TEXT, self.on_other))
        application.add_handler(
            MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, self.on_group)
        )
        application.add_error_handler(self.on_error)

    async def aclose(self) -> None:
        await self.rasa.aclose()

    def sender(self, chat_id: int) -> str:
        return sender_id(chat_id, self.config.sender_salt)

    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    # --- sending ---------------------------------------------------------------------------

    def failure_sends(self) -> list[Send]:
        """A technical problem: say so kindly, and always give the crisis routes."""
        return plain(f"{self.unavailable}\n\n{self.crisis}", store=self.store)

    async def send_all(self, bot: Bot, chat_id: int, sends: Sequence[Send]) -> None:
        for send in sends:
            await self._send_one(bot, chat_id, send)

    async def _send_one(self, bot: Bot, chat_id: int, send: Send) -> None:
        for attempt in (1, 2):
            try:
                if isinstance(send, TextSend):
                    await bot.send_message(
                        chat_id, send.html, parse_mode=ParseMode.HTML, reply_markup=send.keyboard
                    )
                else:
                    await bot.send_photo(chat_id, send.url)
                return
            except RetryAfter as err:
                wait = err.retry_after
                seconds = wait if isinstance(wait, (int, float)) else wait.total_seconds()
                if attempt == 2 or seconds > MAX_RETRY_AFTER:
                    raise
                await asyncio.sleep(seconds)
            except BadRequest:
                if isinstance(send, PhotoSend):
                    # Telegram could not fetch the picture: give the carer the link instead.
                    send = TextSend(escape(send.url))
                    continue
                raise

    @contextlib.asynccontextmanager
    async def typing(self, bot: Bot, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" until the block ends (Rasa can take a few seconds)."""

        async def keep_typing() -> None:
            while True:
                await asyncio.sleep(TYPING_EVERY)
                with contextlib.suppress(TelegramError):
                    await bot.send_chat_action(chat_id, ChatAction.TYPING)

        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def converse(self, bot: Bot, chat_id: int, message: str) -> list[dict[str, Any]] | None:
        """Send one message to Rasa and show its reply; None (after saying sorry) on failure."""
        sender = self.sender(chat_id)
        async with self._lock(chat_id):
            try:
                async with self.typing(bot, chat_id):
                    replies = await self.rasa.send(sender, message, METADATA)
            except RasaUnavailable as err:
                LOGGER.warning("No answer from Rasa for %s: %s", log_id(sender), err)
                await self.send_all(bot, chat_id, self.failure_sends())
                return None
            await self.send_all(bot, chat_id, render(replies, self.store))
            return replies

    async def admit(self, bot: Bot, chat_id: int) -> bool:
        """Apply the per-chat rate limit; tell the carer (once) when they are over it."""
        verdict = self.limiter.hit(chat_id)
        if verdict is Verdict.NOTIFY:
            LOGGER.info("Rate limit reached for %s", log_id(self.sender(chat_id)))
            # A burst of messages may come from someone in distress: give the crisis routes.
            notice = f"{texts.RATE_LIMITED}\n\n{self.crisis}"
            await self.send_all(bot, chat_id, plain(notice, store=self.store))
        return verdict is Verdict.ALLOW

    # --- handlers --------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat_id = update.effective_chat.id
        if not await self.admit(context.bot, chat_id):
            return
        text = user_text(message.text or "")
        if not text:
            await self.send_all(context.bot, chat_id, plain(self.empty, store=self.store))
            return
        await self.converse(context.bot, chat_id, text)

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome, then the topic menu (asked for separately if the welcome has no buttons)."""
        chat_id = update.effective_chat.id
        if not await self.admit(context.bot, chat_id):
            return
        replies = await self.converse(context.bot, chat_id, texts.COMMAND_PAYLOADS["start"])
        if replies is not None and not any(reply.get("buttons") for reply in replies):
            await self.converse(context.bot, chat_id, texts.TOPIC_MENU_PAYLOAD)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What the assistant can do, then the crisis routes (the failure reply has them too)."""
        chat_id = update.effective_chat.id
        if not await self.admit(context.bot, chat_id):
            return
        replies = await self.converse(context.bot, chat_id, texts.COMMAND_PAYLOADS["help"])
        if replies is not None:
            await self.send_all(context.bot, chat_id, plain(self.crisis, store=self.store))

    async def on_forward_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/films and /contacts: ask Rasa for that intent directly."""
        chat_id = update.effective_chat.id
        if not await self.admit(context.bot, chat_id):
            return
        command = user_text(update.effective_message.text or "").split()[0].lower()
        await self.converse(context.bot, chat_id, texts.COMMAND_PAYLOADS[command])

    async def on_crisis(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Crisis routes at once: no rate limit, no per-chat queue, no Rasa."""
        chat_id = update.effective_chat.id
        await self.send_all(context.bot, chat_id, plain(self.crisis, store=self.store))

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Ask before deleting: the command menu is easy to tap by mistake."""
        chat_id = update.effective_chat.id
        if not await self.admit(context.bot, chat_id):
            return
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(texts.FORGET_YES, callback_data=FORGET_YES_DATA)],
                [InlineKeyboardButton(texts.FORGET_NO, callback_data=FORGET_NO_DATA)],
            ]
        )
        await self.send_all(context.bot, chat_id, [TextSend(escape(texts.FORGET_CONFIRM), markup)])

    async def forget(self, bot: Bot, chat_id: int) -> None:
        sender = self.sender(chat_id)
        async with self._lock(chat_id):
            try:
                await self.rasa.forget(sender)
            except RasaUnavailable as err:
                LOGGER.warning("Could not forget %s: %s", log_id(sender), err)
                await self.send_all(bot, chat_id, plain(texts.FORGET_FAILED, store=self.store))
                return
        LOGGER.info("Forgot the conversation of %s", log_id(sender))
        await self.send_all(bot, chat_id, plain(texts.FORGET_DONE, store=self.store))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tap: answer it at once (stops the spinner), mark the choice, forward the payload."""
        query = update.callback_query
        with contextlib.suppress(TelegramError):
            await query.answer()
        message = query.message
        data = query.data or ""
        if not isinstance(message, Message) or message.chat.type != "private":
            return
        chat_id = message.chat.id
        title = _button_title(message, data)
        if title is None or data == DONE_DATA:
            return
        if not await self.admit(context.bot, chat_id):
            return
        with contextlib.suppress(TelegramError):
            # Replace the keyboard with the chosen option: no double taps, and the chat
            # still shows what was picked.
            chosen = InlineKeyboardButton(f"✓ {title}", callback_data=DONE_DATA)
            await query.edit_message_reply_markup(InlineKeyboardMarkup([[chosen]]))
        if data == FORGET_YES_DATA:
            await self.forget(context.bot, chat_id)
            return
        if data == FORGET_NO_DATA:
            await self.send_all(context.bot, chat_id, plain(texts.FORGET_KEPT, store=self.store))
            return
        payload = self.store.payload_for(data)
        if payload is None:
            await self.send_all(context.bot, chat_id, plain(texts.EXPIRED_BUTTON, store=self.store))
            return
        await self.converse(context.bot, chat_id, payload)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice, photos, stickers, documents…: say kindly that only text works."""
        chat_id = update.effective_chat.id
        if not await self.admit(context.bot, chat_id):
            return
        await self.send_all(context.bot, chat_id, plain(self.text_only, store=self.store))

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups would share one conversation between people: point them to a private chat."""
        await update.effective_message.reply_text(texts.PRIVATE_ONLY)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error (never the update: it holds the chat id) and apologise if we can."""
        error = context.error
        LOGGER.error("Unhandled %s in the Telegram bridge", type(error).__name__, exc_info=error)
        if isinstance(update, Update) and update.effective_chat is not None:
            if update.effective_chat.type != "private":
                return
            with contextlib.suppress(TelegramError):
                await self.send_all(context.bot, update.effective_chat.id, self.failure_sends())
