"""The keys of the application form's ``dialog_data``, named once.

Handlers write them, getters read them, windows test them in ``when=`` conditions. Being
``str`` they are stored in Redis or the database exactly as their values.
"""

from __future__ import annotations

from enum import StrEnum


class Field(StrEnum):
    # what the subscriber gives (and what the registry says of the code)
    CODE = "code"
    KIND = "kind"
    ADDRESS = "address"
    REASON = "reason"
    PHONE = "phone"
    EMAIL = "email"
    DESCRIPTION = "description"
    NOTES = "notes"
    UNTIL = "until"  # a suspension's "until when?", a Baku day "YYYY-MM-DD" (optional)
    # the form's own bookkeeping
    EDITING = "editing"  # came from the summary: the next step goes back there
    RETURN_TO_SUMMARY = "return_to_summary"  # after a new reason is chosen
    LAST_CODE = "last_code"  # the code last typed, for "check again"
    DEBT = "debt"  # the debt found, as a decimal string
    STILL_DEBT = "still_debt"  # "I have paid" pressed and the debt is still there
    NUMBER = "number"  # the registered application's number


# What the draft holds; cleared the moment the application is registered.
DRAFT = (
    Field.CODE,
    Field.KIND,
    Field.ADDRESS,
    Field.REASON,
    Field.PHONE,
    Field.EMAIL,
    Field.DESCRIPTION,
    Field.NOTES,
    Field.UNTIL,
)
