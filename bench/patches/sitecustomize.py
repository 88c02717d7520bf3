"""Experiment only (``python -m bench.experiments cached-action-validator``), never in production.

Rasa 3.6's ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every
action-server reply, and ``validate`` checks the (constant) schema itself each time: profiling
showed that is about a fifth of the Rasa server's CPU per message. This builds the validator
once. It is put on ``PYTHONPATH`` of the benchmarked servers only, and patches the class right
after Rasa imports it (a meta-path hook), so nothing is imported early.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from typing import Any

TARGET = "rasa.core.actions.action"


def _patch(module: Any) -> None:
    import jsonschema

    remote = module.RemoteAction
    schema = remote.action_response_format_spec()
    validator = jsonschema.validators.validator_for(schema)(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except jsonschema.ValidationError as err:
            err.message += ". Failed to validate Action server response from API."
            raise
        return True

    remote._validate_action_result = _validate_action_result


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            _patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _Hook())
