"""Row ids named in text (an address, a query parameter, a command's argument).

Every id column is a 64-bit integer: SQLite refuses to bind a larger Python int
(OverflowError) and PostgreSQL compares it as a numeric, so text that cannot be an id
is answered as "no such row" before it reaches a query.
"""

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def row_id(raw: str) -> int | None:
    """The id that ``raw`` names (ASCII digits of a positive 64-bit integer), else None."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= BIGINT_MAX else None
