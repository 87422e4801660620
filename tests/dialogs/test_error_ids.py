"""Every refusal a parser can raise has its message, and every message its id."""

from __future__ import annotations

import inspect
import re

import workflows.values as values
from dialogs.common import ERRORS, ErrorId

RAISES = re.compile(r"raise (Invalid\w+)\(\s*\"(\w+)\"")


def test_every_error_id_has_a_message_and_no_message_is_orphaned() -> None:
    assert set(ERRORS) == set(ErrorId)


def test_every_refusal_of_the_parsers_maps_to_an_error_id() -> None:
    raised = RAISES.findall(inspect.getsource(values))
    assert len(raised) >= 15  # the FIN, code, phone, e-mail and text checks
    for class_name, code in raised:
        exc = getattr(values, class_name)(code)
        assert ErrorId.of(exc) in ERRORS, (class_name, code)
