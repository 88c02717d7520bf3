"""The few sentences only the Telegram bridge says (everything else comes from Rasa).

None of them carries a phone number: crisis routes always come from ``domain.yml``
through :func:`bot.content.crisis.crisis_text`, appended where a carer might need them.
Replies every channel shares (such as "I can only read text messages") come from
``content/messages.yml`` instead, so the website and Telegram say the same thing.
"""

from __future__ import annotations

# (command, menu description) in the order Telegram's command menu shows them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start again and see the topics"),
    ("help", "What I can help with"),
    ("films", "Watch the toolkit films"),
    ("contacts", "Find support near you"),
    ("crisis", "Get urgent help now"),
    ("forget", "Delete our conversation"),
)

# What each command asks Rasa for (payloads of intents in domain.yml).
COMMAND_PAYLOADS: dict[str, str] = {
    "start": "/greet",
    "help": "/ask_capabilities",
    "films": "/request_film",
    "contacts": "/request_local_contacts",
}
TOPIC_MENU_PAYLOAD = "/ask_capabilities"

NEED_HELP_NOW = "If you need help now:"
RATE_LIMITED = (
    "You're sending messages faster than I can answer them. Please wait a minute, "
    "then send your question again. I'll still be here."
)
EXPIRED_BUTTON = (
    "Sorry, that button has expired. Please type your question, or send /start for the topics."
)
PRIVATE_ONLY = (
    "To keep your conversation private, please message me directly rather than in a group."
)
FORGET_CONFIRM = (
    "This deletes our conversation so far from the assistant's records. "
    "Do you want me to delete it?"
)
FORGET_YES = "Yes, delete it"
FORGET_NO = "No, keep it"
FORGET_DONE = (
    "Done. I've deleted our conversation and we're starting afresh. "
    "Send /start whenever you want to talk again."
)
FORGET_KEPT = "OK, I've kept our conversation."
FORGET_FAILED = (
    "Sorry, I couldn't delete our conversation just now. Please try /forget again later."
)
