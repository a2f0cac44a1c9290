"""Following an access log from where the previous run stopped, across log rotation.

A log is followed by a position: the inode of the file read, the offset just
after the last complete line counted, and a fingerprint of the file's first
line (its first 4 KiB at most). On the next run:

- same inode, at least as long, same first line: read on from the offset;
- same inode but shorter or starting differently (copytruncate, or an inode
  number reused): finish the old content from `LOG.1` or `LOG.1.gz` if one
  starts with the remembered first line, then read `LOG` from its start;
- another inode, or no `LOG` (rename rotation): finish the old file, found as
  `LOG.1` by its inode (or as `LOG.1` / `LOG.1.gz` by its first line), then
  read the new `LOG` from its start.

Only complete lines are consumed: a line still being written is read next time.
"""

import gzip
import hashlib
import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# Enough to tell two logs apart by their first line, small enough to hash on every run.
HEAD_BYTES = 4096
CHUNK_BYTES = 1 << 20
ROTATED_SUFFIXES = (".1", ".1.gz")

# Called with (a complete line without its newline, the file's name, the line's offset).
LineSink = Callable[[bytes, str, int], None]


@dataclass(frozen=True)
class Position:
    """Where reading a log stopped: stored in a LogCursor."""

    inode: int
    offset: int
    head: str


@dataclass
class LogRead:
    """What one run read of one log, and where the next run starts."""

    path: Path
    start: Position | None
    end: Position | None = None
    lines: int = 0
    bytes: int = 0
    rotated: str = ""  # the rotated file whose rest was read before the log itself
    restart: str = ""  # why the log was read again from its start
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Finished:
    name: str
    end: int
    partial: int  # bytes of a last line without its newline, not consumed
    head: str
    same_file: bool  # the very file followed so far (not a copy): it may still grow


def signed_inode(ino: int) -> int:
    """Inode numbers are unsigned 64-bit, the column a signed BIGINT: store the same bits."""
    return ino - (1 << 64) if ino >= (1 << 63) else ino


def head_of(fh: BinaryIO) -> str:
    """Fingerprint of the first line (at most HEAD_BYTES): stable once that line is whole."""
    fh.seek(0)
    data = fh.read(HEAD_BYTES)
    newline = data.find(b"\n")
    if newline >= 0:
        data = data[: newline + 1]
    return hashlib.sha256(data).hexdigest()


def read_lines(
    fh: BinaryIO, *, start: int, limit: int | None, sink: LineSink, name: str, errors: list[str]
) -> tuple[int, int, int]:
    """Streams the complete lines from `start` (up to `limit` bytes of the file, None for
    its end) to `sink`; returns (offset after the last complete line, lines, bytes left
    over in an incomplete last line).

    A read error ends the reading at the last line fed (noted in `errors`), so the
    offset returned always matches what the sink has seen.
    """
    offset, lines, rest = start, 0, b""
    remaining = None if limit is None else limit - start
    try:
        fh.seek(start)
        while remaining is None or remaining > 0:
            chunk = fh.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            for line in parts:
                sink(line, name, offset)
                offset += len(line) + 1
            lines += len(parts)
    except (OSError, EOFError) as exc:
        errors.append(f"{name}: reading stopped at byte {offset} ({exc}).")
        return offset, lines, 0
    return offset, lines, len(rest)


def log_read(*, path: Path, position: Position | None, sink: LineSink) -> LogRead:
    """Feeds the lines of `path` not counted yet to `sink`; the caller stores `end`."""
    read = LogRead(path=path, start=position, end=position)
    with ExitStack() as files:
        try:
            current = files.enter_context(open(path, "rb"))  # noqa: SIM115
        except FileNotFoundError:
            current = None
        except OSError as exc:
            read.warnings.append(f"{path}: cannot be read ({exc.strerror}); left for next time.")
            return read
        if current is not None:
            st = os.fstat(current.fileno())
            inode, size = signed_inode(st.st_ino), st.st_size
        if position is None:
            if current is None:
                read.warnings.append(f"{path}: not found.")
            else:
                read.end = _read_whole(read, current, inode, 0, size, sink)
            return read

        same = current is not None and inode == position.inode
        if (
            same
            and size >= position.offset
            and (position.offset == 0 or head_of(current) == position.head)
        ):
            read.end = _read_whole(read, current, inode, position.offset, size, sink)
            return read

        read.restart = "truncated" if same else "rotated" if current is not None else "missing"
        old = _finish_rotated(read, position, same_inode_allowed=not same, files=files, sink=sink)
        if old is None:
            what = "truncated" if same else "replaced"
            read.warnings.append(
                f"{path} was {what} and its old content was not found as {path.name}.1 or "
                f"{path.name}.1.gz: anything written to it after byte {position.offset} "
                "was not counted."
            )
        if current is None:
            # No new log yet: remember how far the old file (or its copy) was read,
            # so that the next run does not read that part of it again.
            if old is not None:
                read.end = Position(position.inode, old.end, old.head)
            else:
                read.warnings.append(f"{path}: not found.")
            return read
        new = _read_whole(read, current, inode, 0, size, sink)
        if old is not None and old.same_file and new.offset == 0:
            # The web server may not have reopened its log yet and still writes to
            # the old file: keep following that one until the new one has a line.
            read.end = Position(position.inode, old.end, old.head)
            return read
        if old is not None and old.partial:
            read.warnings.append(
                f"{old.name}: its last {old.partial} bytes have no final newline: not counted."
            )
        read.end = new
    return read


def _read_whole(
    read: LogRead, fh: BinaryIO, inode: int, start: int, size: int, sink: LineSink
) -> Position:
    # Up to the size seen when opened: lines logged while a big file is read
    # belong to the next run, not to this run's measurement time.
    end, lines, _ = read_lines(
        fh, start=start, limit=size, sink=sink, name=read.path.name, errors=read.warnings
    )
    read.lines += lines
    read.bytes += end - start
    return Position(inode, end, head_of(fh) if end else "")


def _finish_rotated(
    read: LogRead, position: Position, *, same_inode_allowed: bool, files: ExitStack, sink
) -> _Finished | None:
    """Reads the rest of the file followed so far, now next to the log under a rotated
    name; None if none of the candidates is that file."""
    for suffix in ROTATED_SUFFIXES:
        candidate = read.path.with_name(read.path.name + suffix)
        compressed = suffix.endswith(".gz")
        try:
            fh = files.enter_context(
                gzip.open(candidate, "rb") if compressed else open(candidate, "rb")  # noqa: SIM115
            )
            st = os.fstat(fh.fileno())
            head = head_of(fh)
            same_file = (
                not compressed and same_inode_allowed and signed_inode(st.st_ino) == position.inode
            )
            if position.offset > 0 and head != position.head:
                continue  # another generation of the log
            if position.offset == 0 and not same_file:
                continue  # nothing read from it yet, nothing to recognise it by
            if compressed:
                # Only decompressing tells the length: seeking stops at the end.
                if fh.seek(position.offset) != position.offset:
                    continue
                limit = None
            elif st.st_size < position.offset:
                continue
            else:
                limit = st.st_size
        except FileNotFoundError:
            continue
        except (OSError, EOFError) as exc:
            read.warnings.append(f"{candidate}: cannot be read ({exc}); not used.")
            continue
        end, lines, partial = read_lines(
            fh,
            start=position.offset,
            limit=limit,
            sink=sink,
            name=candidate.name,
            errors=read.warnings,
        )
        read.rotated = candidate.name
        read.lines += lines
        read.bytes += end - position.offset
        return _Finished(candidate.name, end, partial, head if end else "", same_file)
    return None
