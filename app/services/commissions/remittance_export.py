"""A remittance bordereau as a spreadsheet, for the insurer and the accountant."""

from __future__ import annotations

from typing import IO

from flask_babel import lazy_gettext as _

from app.models import Remittance
from app.services.exports.cells import cell
from app.services.exports.writers import xlsx_file

HEADER = (
    _("Notice"),
    _("Contract"),
    _("Paid on"),
    _("Premium collected"),
    _("Commission retained"),
    _("Net to pay"),
)


def export_xlsx(remittance: Remittance) -> IO[bytes]:
    rows = [
        [
            cell(line.premium_notice.number),
            cell(line.premium_notice.policy.number),
            cell(line.paid_on),
            cell(line.collected),
            cell(line.commission),
            cell(line.collected - line.commission),
        ]
        for line in remittance.lines
    ]
    rows.append(
        [
            cell(str(_("Total"))),
            None,
            None,
            cell(remittance.premiums_collected),
            cell(remittance.commission_retained),
            cell(remittance.net_amount),
        ]
    )
    return xlsx_file(HEADER, rows, title=remittance.number)
