"""The figures of an issue's report, as plain data: what `report`, `status` and the desk show.

The words are the glossary's (../shared/DESIGN.md): *recipients* the readers the issue was
built for, *sent* handed over, *delivered* sent and not bounced or blocked, *bounced* hard
and soft, *blocked* refused by policy, *complaints*, *unsubscribed* by this issue. Clicks are
readers'; link scanners' are *machine clicks*, kept apart. Unique readers and rates are only
ever among the readers who agreed to personalised statistics (`agreed`): nobody else's
clicks name a reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

UNSUBSCRIBE_WAYS = ("one_click", "page", "mail", "api")
"""How a reader left: the RFC 8058 one-click POST of their mail app, a page (the
unsubscribe page's button, the preferences page), a mail to the List-Unsubscribe mailto:,
or a program through the API (`POST /api/v1/subscribers/{id}/unsubscribe`)."""


def rate(part: int, whole: int) -> float | None:
    """part / whole, None when there is no whole to be a part of."""
    return part / whole if whole else None


@dataclass
class Deliveries:
    """What became of the issue's messages, for the whole issue or one variant."""

    recipients: int = 0
    sent: int = 0
    pending: int = 0
    """Not yet handed over: pending, or claimed by a worker right now."""
    skipped: int = 0
    """Never handed over: cancelled (the reader left or was suppressed meanwhile)."""
    failed: int = 0
    unsettled: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    blocked: int = 0
    complaints: int = 0
    sent_to_agreed: int = 0
    """Sent to readers who had agreed to personalised statistics by then."""
    lost_of_agreed: int = 0
    """Of those, bounced or blocked."""
    unsubscribed_by: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(UNSUBSCRIBE_WAYS, 0)
    )
    by_state: dict[str, int] = field(default_factory=dict)
    """The ledger's rows by their state, as they are."""

    @property
    def bounced(self) -> int:
        return self.bounced_hard + self.bounced_soft

    @property
    def delivered(self) -> int:
        """Sent and not bounced or blocked (no service reports deliveries one by one)."""
        return self.sent - self.bounced - self.blocked

    @property
    def agreed(self) -> int:
        """Delivered to readers who agreed: the N of "of N who agreed"."""
        return self.sent_to_agreed - self.lost_of_agreed

    @property
    def unsubscribed(self) -> int:
        return sum(self.unsubscribed_by.values())

    def add(self, other: Deliveries) -> None:
        for name in (
            "recipients",
            "sent",
            "pending",
            "skipped",
            "failed",
            "unsettled",
            "bounced_hard",
            "bounced_soft",
            "blocked",
            "complaints",
            "sent_to_agreed",
            "lost_of_agreed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for way, count in other.unsubscribed_by.items():
            self.unsubscribed_by[way] = self.unsubscribed_by.get(way, 0) + count
        for state, count in other.by_state.items():
            self.by_state[state] = self.by_state.get(state, 0) + count

    def as_json(self) -> dict[str, object]:
        return {
            "recipients": self.recipients,
            "sent": self.sent,
            "delivered": self.delivered,
            "pending": self.pending,
            "skipped": self.skipped,
            "failed": self.failed,
            "unsettled": self.unsettled,
            "bounced": self.bounced,
            "bounced_hard": self.bounced_hard,
            "bounced_soft": self.bounced_soft,
            "blocked": self.blocked,
            "complaints": self.complaints,
            "unsubscribed": self.unsubscribed,
            "unsubscribed_by": dict(self.unsubscribed_by),
        }


@dataclass
class Clicks:
    """Clicks on some links: readers' and machines' apart, and the agreeing readers."""

    clicks: int = 0
    machine_by: dict[str, int] = field(default_factory=dict)
    """Machine clicks by why they were taken for a machine's: head, early, sweep, crowd, agent."""
    readers: set[int] = field(default_factory=set)
    """The agreeing readers who clicked (subscriber ids; never shown, only counted)."""
    agreed: int = 0
    """How many agreeing readers got these links delivered."""

    @property
    def machine_clicks(self) -> int:
        return sum(self.machine_by.values())

    @property
    def clicking_readers(self) -> int:
        return len(self.readers)

    @property
    def click_through_rate(self) -> float | None:
        return rate(self.clicking_readers, self.agreed)

    def count(self, machine: str | None, number: int) -> None:
        if machine is None:
            self.clicks += number
        else:
            self.machine_by[machine] = self.machine_by.get(machine, 0) + number

    def add(self, other: Clicks) -> None:
        self.clicks += other.clicks
        for reason, number in other.machine_by.items():
            self.count(reason, number)
        self.readers |= other.readers

    def as_json(self) -> dict[str, object]:
        return {
            "clicks": self.clicks,
            "machine_clicks": self.machine_clicks,
            "machine_clicks_by": dict(sorted(self.machine_by.items())),
            "clicking_readers": self.clicking_readers,
            "agreed": self.agreed,
            "click_through_rate": self.click_through_rate,
        }


@dataclass
class Opens:
    """Loads of the 1x1 image (`analytics.opens`); privacy proxies load every image."""

    opens: int = 0
    machine_opens: int = 0
    readers: set[int] = field(default_factory=set)
    agreed: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "opens": self.opens,
            "machine_opens": self.machine_opens,
            "opening_readers": len(self.readers),
            "agreed": self.agreed,
            "open_rate": rate(len(self.readers), self.agreed),
        }


@dataclass
class Link:
    """One tracked link of one variant."""

    variant: str
    variant_no: int
    position: int
    url: str
    kind: str
    """link (the item's own link, "read more"), online (an event's meeting), calendar."""
    item_id: int | None
    item: str | None
    """The item's title, None for a link of no item."""
    section: str | None
    """The item's kind (intro, report, partner, event, news): its section of the issue."""
    clicks: Clicks = field(default_factory=Clicks)

    def as_json(self) -> dict[str, object]:
        return {
            "variant": self.variant,
            "position": self.position,
            "url": self.url,
            "kind": self.kind,
            "item": self.item,
            "item_id": self.item_id,
            "section": self.section,
            **self.clicks.as_json(),
        }


@dataclass
class Item:
    item_id: int
    title: str
    section: str
    clicks: Clicks = field(default_factory=Clicks)

    def as_json(self) -> dict[str, object]:
        return {
            "item_id": self.item_id,
            "title": self.title,
            "section": self.section,
            **self.clicks.as_json(),
        }


@dataclass
class Section:
    kind: str
    clicks: Clicks = field(default_factory=Clicks)

    def as_json(self) -> dict[str, object]:
        return {"section": self.kind, **self.clicks.as_json()}


@dataclass
class Variant:
    """One language and topic selection of the issue, as its readers got it."""

    key: str
    number: int
    deliveries: Deliveries = field(default_factory=Deliveries)
    clicks: Clicks = field(default_factory=Clicks)
    opens: Opens = field(default_factory=Opens)
    links: list[Link] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return self.key.partition(":")[0]

    @property
    def topics(self) -> list[str] | None:
        """The topics this variant was cut to; None for the full issue."""
        _locale, cut, topics = self.key.partition(":")
        return topics.split("+") if cut else None


@dataclass
class IssueReport:
    number: int
    subject: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    tracked: bool
    """Whether the issue's links were tracked (issue_links rows): no links, no clicks."""
    deliveries: Deliveries
    clicks: Clicks
    opens: Opens | None
    """None unless `analytics.opens` is on."""
    variants: list[Variant]
    links: list[Link]
    """Every link once, its variants' clicks added (the same url of the same item)."""
    items: list[Item]
    sections: list[Section]
    readers_kept: bool = True
    """False once the issue is older than `analytics.retention_days`: its clicks no longer
    name anyone, so who clicked (and the click-through rate) is not known any more."""

    def as_json(self) -> dict[str, object]:
        """The keys ../shared/DESIGN.md names (issue, recipients, delivered, failed,
        bounced, complaints, unsubscribed, clicks, machine_clicks, links), and more."""
        return {
            "issue": self.number,
            "readers_kept": self.readers_kept,
            "subject": self.subject,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "tracked": self.tracked,
            **self.deliveries.as_json(),
            **self.clicks.as_json(),
            "opens": None if self.opens is None else self.opens.as_json(),
            "links": [
                {k: v for k, v in link.as_json().items() if k not in ("variant", "position")}
                for link in self.links
            ],
            "items": [item.as_json() for item in self.items],
            "sections": [section.as_json() for section in self.sections],
            "variants": [
                {
                    "variant": variant.key,
                    "variant_no": variant.number,
                    "locale": variant.locale,
                    "topics": variant.topics,
                    **variant.deliveries.as_json(),
                    **variant.clicks.as_json(),
                    "opens": None if self.opens is None else variant.opens.as_json(),
                    "links": [link.as_json() for link in variant.links],
                }
                for variant in self.variants
            ],
        }
