"""What is done to a query's text before it is stored: spaces and case folded, personal bits masked.

A query that holds an e-mail address, a phone number or a long run of digits
(an account, card or ID number) says who someone is or whom they look for:
those parts are replaced by ``[email]``, ``[phone]`` and ``[number]``. Dates
and years stay (readers search for them); a run of digits counts as long
from ``LONG_DIGITS`` digits, a phone number from ``PHONE_DIGITS``.
"""

from __future__ import annotations

import re

MAX_QUERY_CHARS = 200  # longer queries are cut: nobody reads more in a report
LONG_DIGITS = 7
PHONE_DIGITS = 7

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Digits with the separators phone numbers are written with; "+" or "(" may lead.
DIGIT_RUN = re.compile(r"(?:\+|\()?\d(?:[\d\s().-]*\d)?\)?")
YEAR = re.compile(r"1\d{3}|20\d{2}")
DATE = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{4}\s*[-–]\s*\d{4}"
)


def _mask_digits(match: re.Match) -> str:
    run = match.group(0)
    digits = sum(c.isdigit() for c in run)
    if DATE.fullmatch(run.strip()) or all(YEAR.fullmatch(g) for g in re.findall(r"\d+", run)):
        return run
    if run.isdigit():
        return "[number]" if digits >= LONG_DIGITS else run
    if digits >= PHONE_DIGITS:
        return "[phone]"
    return run


def mask_personal(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and long digit runs masked."""
    text = EMAIL.sub("[email]", text)
    return DIGIT_RUN.sub(_mask_digits, text)


def stored_query(text: str) -> str:
    """A query as reports group it: masked, lower case, one space between words, bounded.

    Masked before it is cut, so that no half of a number is left behind.
    """
    return " ".join(mask_personal(text).casefold().split())[:MAX_QUERY_CHARS]
