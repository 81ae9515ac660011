"""Address normalisation: one spelling per mailbox, checked without DNS, used everywhere.

Every address the system compares goes through `normalise_address`: the desk's sign-in,
the sign-up form, preferences, CSV import, the GDPR export and erasure, webhook and bounce
lookups, and the suppression hash. Two addresses are the same mailbox when their normal
forms are equal, character for character; nothing compares addresses any other way.

The normal form is `local@domain`:

- the domain as its IDNA 2008 A-label, lower-cased, by UTS #46 non-transitional
  processing (what DNS resolves). Python's built-in `idna` codec is IDNA 2003, which maps
  `ß` to `ss` and final `ς` to `σ`: `preße-netzwerk.de` is a different domain, which anyone
  may register, from `presse-netzwerk.de`, and must never be taken for it. `str.casefold()`
  folds the same way, and is used nowhere on addresses.
- the local part as typed (NFC, as email-validator returns it), with only the ASCII letters
  A-Z lower-cased. Every mail system in use treats `Anna@` and `anna@` alike, one reader
  must not be two, and an erased or bounced address must not come back by a capital letter.
  No other character is folded: Unicode case mapping depends on the language (Turkish
  `I`/`ı`, `İ`/`i`, Greek final `ς`) and would join mailboxes that differ.

Releases before this one stored email-validator's normalised form lower-cased (the domain as
its Unicode U-label); `legacy_spelling` gives that form, so suppression hashes kept from
then (an erased person's, whose address is gone) still match.
"""

from __future__ import annotations

import functools
import importlib

import idna
from email_validator import EmailNotValidError, validate_email

# email-validator checks the domain of every address from scratch, three quarters of its
# time per address (an import of 200,000 rows spends seconds on a few hundred domains).
# That check is a pure function of the domain's text and returns a mapping the caller
# only reads, so it is kept for the domains seen; a domain it refuses is checked again
# each time (lru_cache keeps no exceptions), with the same error.
_VALIDATOR = importlib.import_module("email_validator.validate_email")
_VALIDATOR.validate_email_domain_name = functools.lru_cache(maxsize=4096)(  # type: ignore[attr-defined]
    _VALIDATOR.validate_email_domain_name
)

ASCII_CAPITALS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class InvalidAddress(ValueError):
    """Not an address mail can be sent to; the message says why, for a field error."""


def normalise_address(raw: str) -> str:
    """The address's normal form (see the module docstring), or InvalidAddress.

    Spaces and tabs around the address are dropped (a pasted address often has one); a
    line break or another control character anywhere is refused, and so is an address
    longer than 254 octets with its domain as the A-label (email-validator measures that).
    """
    local, domain = _parts(raw)
    return f"{local.translate(ASCII_CAPITALS)}@{domain}"


def legacy_spelling(address: str) -> str:
    """How releases before 0012 spelled the address (email-validator's form, lower-cased).

    Only for matching suppression hashes made then; `address` is a normal form.
    """
    local, _, domain = address.rpartition("@")
    return f"{local}@{_u_label(domain)}".lower()


@functools.lru_cache(maxsize=4096)
def _u_label(domain: str) -> str:
    return idna.decode(domain)


def listed(address: str, addresses: list[str]) -> str | None:
    """The entry of `addresses` (as written there) that is the same mailbox as `address`.

    An entry that is not a valid address matches nothing.
    """
    wanted = normalise_address(address)
    for entry in addresses:
        try:
            if normalise_address(entry) == wanted:
                return entry
        except InvalidAddress:
            continue
    return None


def _parts(raw: str) -> tuple[str, str]:
    try:
        checked = validate_email(raw.strip(" \t"), check_deliverability=False)
        # The same A-label email-validator computes as `ascii_domain`, made here explicitly
        # with the idna package's IDNA 2008, so that no other IDNA can creep in.
        domain = _a_label(checked.domain)
    except (EmailNotValidError, idna.IDNAError, UnicodeError) as exc:
        raise InvalidAddress(str(exc) or "The email address is not valid.") from exc
    return checked.local_part, domain.lower()


@functools.lru_cache(maxsize=4096)
def _a_label(domain: str) -> str:
    return idna.encode(domain, uts46=True, transitional=False).decode("ascii")
