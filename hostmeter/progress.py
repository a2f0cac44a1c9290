"""Progress bars for long commands: on a terminal only, on standard error, so that a
script reading standard output (or a log) gets the same lines as before."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_rows(rows: Iterable[T], *, desc: str, unit: str = "rows") -> Iterator[T]:
    """Yields the rows, counting them on a progress bar when stderr is a terminal."""
    yield from tqdm(rows, desc=desc, unit=unit, unit_scale=True, disable=None, leave=False)
