"""Import the customer base from files: resellers, organizations and limits.

Rows come as (line number, fields) pairs (see hostmeter.readers) and
are upserted by domain: importing the same file again changes nothing. Every
good row is stored even when others are bad; each row is saved in its own
savepoint, and a bad one becomes a RowError with a reason naming the column.

The parts: what the importers share (rows), and one module per kind of file
(resellers, organizations, limits, reseller logins).
"""

from .limits import (
    LIMIT_COLUMNS,
    LIMIT_KINDS,
    ORGANIZATION,
    PROVIDER,
    RESELLER,
    tenancy_import_limits,
)
from .logins import RESELLER_LOGIN_COLUMNS, tenancy_import_reseller_logins
from .organizations import ORGANIZATION_COLUMNS, tenancy_import_organizations
from .resellers import RESELLER_COLUMNS, tenancy_import_resellers
from .rows import BATCH, RowRejected, Rows, TenancyImportResult

__all__ = [
    "BATCH",
    "LIMIT_COLUMNS",
    "LIMIT_KINDS",
    "ORGANIZATION",
    "ORGANIZATION_COLUMNS",
    "PROVIDER",
    "RESELLER",
    "RESELLER_COLUMNS",
    "RESELLER_LOGIN_COLUMNS",
    "RowRejected",
    "Rows",
    "TenancyImportResult",
    "tenancy_import_limits",
    "tenancy_import_organizations",
    "tenancy_import_reseller_logins",
    "tenancy_import_resellers",
]
