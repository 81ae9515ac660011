"""The subscriber store: addresses, consent, state, import. Imports nothing from `pipeline`."""

from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.csv_import import ImportReport, import_csv
from subscribers.store import Consent, Subscriber

__all__ = [
    "Consent",
    "ImportReport",
    "InvalidAddress",
    "Subscriber",
    "import_csv",
    "normalise_address",
]
