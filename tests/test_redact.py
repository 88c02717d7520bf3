"""Masking of personal details (``bot.redact``), without any server or database."""

from __future__ import annotations

import pytest

from bot.redact import (
    contains_personal_details,
    outward_code,
    redact_location,
    redact_public_text,
    redact_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("call me on 07700 900123 please", "call me on [phone] please"),
        ("my number is 07700900123", "my number is [phone]"),
        ("ring +44 7700 900123", "ring [phone]"),
        ("home: (0115) 496 0000", "home: [phone]"),
        ("home: 0115-496-0000.", "home: [phone]."),
        ("+44 (0)20 7946 0000 is the ward", "[phone] is the ward"),
        ("email jo.bloggs+ward@nhs.net or JO@Example.co.uk", "email [email] or [email]"),
        ("his NHS number is 485 777 3456", "his NHS number is [NHS number]"),
        ("NHS no. 4857773456", "NHS no. [NHS number]"),
        ("NHS number 485-777-3456", "NHS number [NHS number]"),
        ("NI number QQ 12 34 56 C", "NI number [NI number]"),
        ("born 12/03/1961", "born [date]"),
        ("dob 1.3.61", "dob [date]"),
        ("DOB: 3rd March", "DOB: [date]"),
        ("date of birth 14 Feb", "date of birth [date]"),
        ("his birthday is 25/12", "his birthday is [date]"),
        ("born on 12 March 1961 in Leeds", "born on [date] in Leeds"),
        ("March 12th, 1961", "[date]"),
        ("1961-03-12", "[date]"),
        ("he lives at NG22 8TX", "he lives at NG22 ***"),
        ("postcode ng228tx", "postcode ng22 ***"),
        ("SW1A 1AA and M1 1AE", "SW1A *** and M1 ***"),
    ],
)
def test_personal_details_are_masked(raw: str, expected: str) -> None:
    assert redact_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Call Samaritans on 116 123, text SHOUT to 85258, or 999 in an emergency.",
        "Call NHS 111 and choose option 2.",
        "Lifeline 0808 808 8000",  # 11 digits: masked in user text, see next test
        "Is there a carers centre near NG22?",
        "My son has been in Rampton since 2019 and he is 34.",
        "We visit at 2:30pm on the 3rd floor, ward 12.",
        "It costs £1,250 a year.",
        "<script>alert(1)</script> {{7*7}}",
    ],
)
def test_ordinary_text_and_helpline_numbers_in_bot_messages_are_kept(text: str) -> None:
    assert redact_public_text(text) == text


def test_short_service_numbers_are_kept_in_user_text() -> None:
    text = "I rang 111 and then 999, and Samaritans on 116 123."
    assert redact_text(text) == text
    assert not contains_personal_details(text)


def test_user_text_masks_any_long_phone_number_even_a_helpline() -> None:
    assert redact_text("I called 0808 808 8000") == "I called [phone]"


def test_bot_text_keeps_phone_numbers_but_masks_postcodes_and_dates() -> None:
    bot = "Carers centre near NG22 8TX: call 01777 247571. Updated 12/03/2024."
    assert (
        redact_public_text(bot) == "Carers centre near NG22 ***: call 01777 247571. Updated [date]."
    )


def test_a_run_of_digits_longer_than_any_phone_number_is_masked() -> None:
    assert redact_text("ref 12345678901234567890") == "ref [phone]"


def test_several_details_in_one_message() -> None:
    raw = (
        "My son John (NHS 485 777 3456, born 01/02/1990) is at NG22 8TX, "
        "ring me on 07700 900123 or email mum@mail.com"
    )
    assert redact_text(raw) == (
        "My son John (NHS [NHS number], born [date]) is at NG22 ***, "
        "ring me on [phone] or email [email]"
    )
    assert contains_personal_details(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("NG22 8TX", "NG22"), ("ng228tx", "NG22"), (" SW1A 1AA ", "SW1A"), ("NG22", None)],
)
def test_outward_code_of_a_full_postcode(value: str, expected: str | None) -> None:
    assert outward_code(value) == expected


def test_location_values_keep_the_outward_code_or_the_place() -> None:
    assert redact_location("NG22 8TX") == "NG22"
    assert redact_location("Leeds") == "Leeds"
    assert redact_location("Rampton Hospital") == "Rampton Hospital"
    assert redact_location("near NG22 8TX") == "near NG22 ***"


def test_empty_text_is_returned_as_is() -> None:
    assert redact_text("") == ""
    assert redact_public_text("") == ""
