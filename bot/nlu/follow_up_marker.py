"""FollowUpMarker: delivers ``bot.nlu.follow_up.follow_ups`` into the parse data (and the entity).

Last in the pipeline, after the RiskAssessor. Answers that need nothing after them then end
in the rules without an action server call (data/rules/topics.yml).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.follow_up import FOLLOW_UP_ENTITY, FOLLOW_UP_KEY, follow_ups


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class FollowUpMarker(GraphComponent):
    """Marks the messages whose answer needs a follow-up (see the module docstring)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FollowUpMarker:
        """Nothing to train or store: the decision reads the other components' output."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Record the follow-ups in the parse data, and the entity when there are any."""
        for message in messages:
            decision = follow_ups(message.data)
            message.set(FOLLOW_UP_KEY, decision, add_to_output=True)
            if not decision["kinds"]:
                continue
            text = message.get(TEXT) or ""
            entity = {
                ENTITY_ATTRIBUTE_TYPE: FOLLOW_UP_ENTITY,
                ENTITY_ATTRIBUTE_VALUE: "+".join(decision["kinds"]),
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
                EXTRACTOR: self.__class__.__name__,
            }
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
