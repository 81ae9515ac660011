"""Address normalisation: one spelling per mailbox, checked without DNS."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    pass


def normalise_address(raw: str) -> str:
    """Return the address as stored: validated, IDN-normalised, lower-cased.

    Lower-casing the local part is a deliberate simplification: no mail system in use
    treats `Anna@` and `anna@` as different people, and one subscriber must not be two.
    """
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    return checked.normalized.lower()
