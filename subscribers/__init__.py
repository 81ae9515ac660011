"""The subscriber store: addresses, consent, state, import. Imports nothing from `pipeline`."""

from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.csv_export import export_csv
from subscribers.csv_import import ImportReport, import_csv
from subscribers.gdpr import erase, export_person
from subscribers.store import Consent, Subscriber

__all__ = [
    "Consent",
    "ImportReport",
    "InvalidAddress",
    "Subscriber",
    "erase",
    "export_csv",
    "export_person",
    "import_csv",
    "normalise_address",
]
