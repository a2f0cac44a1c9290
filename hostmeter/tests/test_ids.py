"""Row ids named in text: only what a 64-bit id column can hold is an id."""

import pytest

from hostmeter.ids import BIGINT_MAX, row_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(BIGINT_MAX), BIGINT_MAX),
        (str(BIGINT_MAX + 1), None),
        ("9" * 20, None),
        ("0", None),
        ("", None),
        ("-3", None),
        (" 7", None),
        ("1e3", None),
        ("²", None),  # a digit to str.isdigit(), not to int()
        ("١٢", None),  # Arabic-Indic digits: int() reads them, an address must not
    ],
)
def test_row_id(raw, expected):
    assert row_id(raw) == expected
