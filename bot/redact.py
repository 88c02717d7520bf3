"""Masking personal details in free text before anything is stored.

Carers type identifiable details about detained patients and themselves: phone numbers, email
addresses, postcodes, NHS numbers, dates of birth. Rasa Open Source stores every message in clear
text (PII handling is a Rasa Pro feature), so the tracker store runs user text through
:func:`redact_text` before it reaches the database. The patterns live here, once, so the tracker
store, reports and any bridge that keeps logs mask the same things in the same way.

What is masked (see docs/robustness.md):

* email addresses -> ``[email]``
* dates with a year (``12/03/1961``, ``12 March 1961``, ``1961-03-12``), and a day and month after
  "born", "DOB", "date of birth" or "birthday" -> ``[date]``
* numbers of 9 or more digits (spaces, dashes, dots and brackets allowed in between): phone
  numbers -> ``[phone]``, 10-digit NHS or CHI numbers -> ``[NHS number]``, others -> ``[number]``
* National Insurance numbers -> ``[NI number]``
* full UK postcodes -> the outward part is kept, the inward part masked: ``NG22 8TX`` ->
  ``NG22 ***`` (the outward part covers thousands of homes and is what local contacts need)

Short numbers (999, 111, 116 123, 85258) and outward codes on their own are kept.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
DATE_MASK = "[date]"
PHONE_MASK = "[phone]"
NHS_MASK = "[NHS number]"
NUMBER_MASK = "[number]"
NI_MASK = "[NI number]"
POSTCODE_INWARD_MASK = "***"

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUM = r"(?:0?[1-9]|1[0-2])"
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_DATE_RE = re.compile(
    "|".join(
        [
            # 12/03/1961, 12-3-61, 12.03.1961
            rf"(?<![\d/.\-]){_DAY}[/.\-]{_MONTH_NUM}[/.\-](?:{_YEAR}|\d{{2}})(?![\d/\-]|\.\d)",
            # 1961-03-12
            rf"(?<![\d/.\-]){_YEAR}[/.\-]{_MONTH_NUM}[/.\-]{_DAY}(?![\d/\-]|\.\d)",
            # 12 March 1961, 12th of March, 1961
            rf"\b{_DAY}{_ORDINAL}\s+(?:of\s+)?{_MONTH_NAME},?\s+{_YEAR}\b",
            # March 12th, 1961
            rf"\b{_MONTH_NAME}\s+{_DAY}{_ORDINAL},?\s+{_YEAR}\b",
        ]
    ),
    re.IGNORECASE,
)
# A day and month without a year is only a date of birth when the words say so.
_BIRTH_DATE_RE = re.compile(
    r"(?P<lead>\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birthday(?:\s+is)?)\W{0,3})"
    rf"(?P<date>{_DAY}{_ORDINAL}\s+(?:of\s+)?{_MONTH_NAME}|{_MONTH_NAME}\s+{_DAY}{_ORDINAL}"
    rf"|{_DAY}[/.\-]{_MONTH_NUM})(?![\d/\-]|\.\d)",
    re.IGNORECASE,
)

# 9+ digits with at most two separators between digits; an optional + or ( in front.
_LONG_NUMBER_RE = re.compile(r"(?<![\w+])(?:\+|\(\s?)?\d(?:[ \t\-.()]{0,2}\d){8,}(?!\w)")

# Two letters, six digits (often in pairs), a letter A-D. Shape only: specimen prefixes such as
# QQ count too, since masking a look-alike costs nothing.
_NI_RE = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.IGNORECASE)

# Outward code (area letters + district) then inward code (sector digit + unit letters).
_OUTWARD = r"[A-Z]{1,2}\d[A-Z\d]?"
_INWARD = r"\d[ABD-HJLNP-UW-Z]{2}"
_POSTCODE_RE = re.compile(rf"\b(?P<outward>{_OUTWARD})\s*(?P<inward>{_INWARD})\b", re.IGNORECASE)
_FULL_POSTCODE_RE = re.compile(rf"^\s*(?P<outward>{_OUTWARD})\s*{_INWARD}\s*$", re.IGNORECASE)


def _mask_number(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = re.sub(r"\D", "", found)
    if found.lstrip("( ").startswith("+") or digits.startswith("0") or len(digits) > 10:
        return PHONE_MASK
    if len(digits) == 10:
        return NHS_MASK
    return NUMBER_MASK


def _mask_postcode(match: re.Match[str]) -> str:
    return f"{match.group('outward')} {POSTCODE_INWARD_MASK}"


def _mask_birth_date(match: re.Match[str]) -> str:
    return f"{match.group('lead')}{DATE_MASK}"


def redact_text(text: str) -> str:
    """``text`` with personal details masked; everything else is left exactly as it was.

    Order matters: emails first (they contain digits and letters), then dates (so their digits are
    not read as a phone number), then long numbers, NI numbers and postcodes.
    """
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL_MASK, text)
    text = _DATE_RE.sub(DATE_MASK, text)
    text = _BIRTH_DATE_RE.sub(_mask_birth_date, text)
    text = _LONG_NUMBER_RE.sub(_mask_number, text)
    text = _NI_RE.sub(NI_MASK, text)
    return _POSTCODE_RE.sub(_mask_postcode, text)


def redact_public_text(text: str) -> str:
    """Like :func:`redact_text` but keeps phone numbers: for the assistant's own messages.

    The assistant's messages quote public helpline numbers (Samaritans, NHS 111 …), which are not
    personal data, while it may echo a carer's postcode or date back to them.
    """
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL_MASK, text)
    text = _DATE_RE.sub(DATE_MASK, text)
    text = _BIRTH_DATE_RE.sub(_mask_birth_date, text)
    text = _NI_RE.sub(NI_MASK, text)
    return _POSTCODE_RE.sub(_mask_postcode, text)


def outward_code(value: str) -> str | None:
    """The outward part (``"NG22"``) when ``value`` is exactly one full postcode, else None."""
    match = _FULL_POSTCODE_RE.match(value or "")
    return match.group("outward").upper() if match else None


def redact_location(value: str) -> str:
    """A location entity or slot value as it may be stored.

    A full postcode becomes its outward code (enough to find local contacts on a later turn); any
    other text is masked like user text.
    """
    outward = outward_code(value)
    return outward if outward is not None else redact_text(value)


def contains_personal_details(text: str) -> bool:
    """True when :func:`redact_text` would change ``text`` (used to skip needless copies)."""
    return bool(text) and redact_text(text) != text
