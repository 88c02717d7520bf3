"""The names of the events the insight report counts (one place, shared with the actions).

Everything the report needs is an ordinary Rasa event in the tracker store, so nothing extra
is written anywhere: the actions set these slots and the report reads the slot events.
"""

from __future__ import annotations

# action_record_feedback: {"topic": "ask_visiting", "vote": "up" | "down"} (one event per vote).
VOTE_SLOT = "helpful_vote"
VOTE_UP = "up"
VOTE_DOWN = "down"
# action_find_local_contacts: the region (or nation) it looked in, or CONTACTS_NOT_RECOGNISED.
REGION_SLOT = "contacts_region"
CONTACTS_NOT_RECOGNISED = "Not recognised"
# The films button some topic overviews carry (data/answers/): a bot message with it is an offer.
FILMS_PAYLOAD = "/request_film"

SHOW_FILMS_ACTION = "action_show_films"
GIVE_UP_ACTION = "action_default_fallback"  # the last step of the two-stage fallback
CRISIS_RESPONSE = "utter_crisis"
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
