"""Anonymous statistics of the lens (what visitors looked at), kept in the catalog database.

Events come from visitors' phones in batches: an item recognised or a card opened, with the
recognition mode, the language, the dwell time, the local hour and a random session id that
the phone draws anew every day. No address, user agent or anything else about the device is
stored. Reports hide every group seen by fewer than ``k`` sessions (k-anonymity).
"""

from .events import EVENT_TYPES, MAX_EVENTS, EventError, LensBatch, LensEvent, parse_batch
from .report import Report, aggregate
from .store import LensStatsStore

__all__ = ["EVENT_TYPES", "MAX_EVENTS", "EventError", "LensBatch", "LensEvent", "LensStatsStore", "Report", "aggregate",
           "parse_batch"]
