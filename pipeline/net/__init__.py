"""Fetching what others serve: which addresses may be reached, bodies under a cap, redirects
followed hop by hop. Collect and the link checker fetch through it; it imports nothing of
the pipeline but `pipeline.errors`."""

from pipeline.net.body import ACCEPT_ENCODING, BoundedBody, read_bounded, read_bounded_sync
from pipeline.net.follow import MAX_REDIRECTS, Followed, following
from pipeline.net.guard import PublicOnlyTransport, is_internal, is_public
from pipeline.net.pool import PooledTransport, QuickBackend

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_REDIRECTS",
    "BoundedBody",
    "Followed",
    "PooledTransport",
    "PublicOnlyTransport",
    "QuickBackend",
    "following",
    "is_internal",
    "is_public",
    "read_bounded",
    "read_bounded_sync",
]
