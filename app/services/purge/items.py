"""What a purge finds: one item per file, document, job, client to anonymise or agency's
old accounting, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

# A stored file with no document row.
ORPHAN = "orphan"
# A stored attachment file (or thumbnail) with no attachment row, older than the grace period.
ORPHAN_ATTACHMENT = "orphan_attachment"
# A document (its file and its row) past the retention period of its template kind.
RETENTION = "retention"
# A failed document with no file, older than FAILED_JOB_RETENTION_DAYS.
FAILED_DOCUMENT = "failed_document"
# A failed job older than FAILED_JOB_RETENTION_DAYS.
FAILED_JOB = "failed_job"
# Nonces of used single-use links past their expiry: one item counts them all.
SPENT_LINKS = "spent_links"
# A client whose personal data retention says to anonymise (app/services/privacy/retention.py).
ANONYMISE = "anonymise"
# An agency's accounting entries past L123-22 retention (app/services/purge/accounting.py):
# one item per agency, counting its premium notices (its payments are in the reason).
ACCOUNTING = "accounting"
CATEGORIES = (
    ORPHAN,
    ORPHAN_ATTACHMENT,
    RETENTION,
    FAILED_DOCUMENT,
    FAILED_JOB,
    SPENT_LINKS,
    ANONYMISE,
    ACCOUNTING,
)

TRIGGERS = ("cli", "periodic", "screen")


@dataclass(frozen=True)
class PurgeScope:
    """Whose files and rows a purge looks at: one organisation, or every one (None)."""

    organisation_id: int | None

    @property
    def everything(self) -> bool:
        return self.organisation_id is None


@dataclass(frozen=True)
class PurgeItem:
    category: str
    reason: str
    organisation_id: int | None = None
    key: str | None = None  # the stored file that goes with it
    document_id: int | None = None
    job_id: int | None = None
    size: int = 0  # stored bytes freed (after compression and encryption)
    count: int = 1  # rows this item stands for (spent links; accounting: premium notices)
    client_id: int | None = None  # the client to anonymise
    attachment_id: int | None = None  # the attachment whose row is missing

    def as_report(self, *, removed: bool | None = None) -> dict[str, Any]:
        """The JSON kept in PurgeRun.report (and shown by the screen and the CLI)."""
        report = {name: value for name, value in asdict(self).items() if value is not None}
        if self.category not in (SPENT_LINKS, ACCOUNTING):
            report.pop("count")
        if removed is not None:
            report["removed"] = removed
        return report


@dataclass
class PurgePlan:
    """What a purge found at ``found_at``; applying deletes these items and no others."""

    scope: PurgeScope
    found_at: dt.datetime
    # The highest document id when the store was listed (see app.services.purge.orphans).
    high_water: int
    items: list[PurgeItem] = field(default_factory=list)
    # Files too new to judge in this run (their id is above high_water): left for the next.
    files_left_for_later: int = 0

    def of(self, category: str) -> list[PurgeItem]:
        return [item for item in self.items if item.category == category]


@dataclass
class PurgeTotals:
    files: int = 0
    attachment_files: int = 0  # among ``files``: attachment files with no row
    bytes: int = 0
    documents: int = 0
    jobs: int = 0
    spent_links: int = 0
    clients: int = 0
    accounting_notices: int = 0

    def add(self, item: PurgeItem, *, file_removed: bool) -> None:
        if file_removed:
            self.files += 1
            self.bytes += item.size
            if item.category == ORPHAN_ATTACHMENT:
                self.attachment_files += 1
        if item.category in (RETENTION, FAILED_DOCUMENT):
            self.documents += 1
        elif item.category == FAILED_JOB:
            self.jobs += 1
        elif item.category == SPENT_LINKS:
            self.spent_links += item.count
        elif item.category == ANONYMISE:
            self.clients += 1
        elif item.category == ACCOUNTING:
            self.accounting_notices += item.count

    @classmethod
    def of_plan(cls, items: list[PurgeItem]) -> PurgeTotals:
        totals = cls()
        for item in items:
            totals.add(item, file_removed=item.key is not None)
        return totals
