"""Copying a local file as cheaply as its filesystem allows: a reflink, else a copy inside the kernel."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

_FICLONE = 0x40049409  # linux/fs.h: share the source's extents (btrfs, XFS, bcachefs); copy-on-write after
# copy_file_range refuses some pairs of files (another filesystem type, a pseudo file system, an old
# kernel); the copy then goes on with sendfile (still in the kernel) and, failing that, in user space.
_NOT_HERE = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM, errno.EBADF}
# Durable copies go in windows of this size, each followed by a request to start writing it back.
WRITEBACK_WINDOW = 32 << 20


def copy_file(source: Path, target: Path) -> None:
    """Write a new, independent file `target` with `source`'s bytes (never a hard link: editing one
    never changes the other)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        if _reflink(src.fileno(), dst.fileno()):
            return
        if hasattr(os, "copy_file_range"):
            try:
                while os.copy_file_range(src.fileno(), dst.fileno(), 1 << 30):
                    pass
                return
            except OSError:
                src.seek(0)
                dst.seek(0)
                dst.truncate()
        shutil.copyfileobj(src, dst, 1 << 20)


def copy_durable(source: Path, target: Path) -> int:
    """Create `target` (which must not exist) with `source`'s bytes, on disk when this returns; its size.

    A reflink where the filesystem has them, else a copy inside the kernel (`copy_file_range`, then
    `sendfile`): the bytes never pass through this process. Writeback of each window starts as soon
    as it is copied (`posix_fadvise(DONTNEED)` on dirty pages starts their writeback), so the closing
    fsync finds little left to write.
    """
    with open(source, "rb") as src, open(target, "xb") as dst:
        out = dst.fileno()
        if not _reflink(src.fileno(), out):
            _copy_in_kernel(src.fileno(), out)
        os.fsync(out)
        return os.fstat(out).st_size


def _copy_in_kernel(src: int, dst: int) -> None:
    done = 0
    step = _copy_file_range if hasattr(os, "copy_file_range") else _sendfile
    while True:
        try:
            copied = step(src, dst)
        except OSError as exc:
            if exc.errno not in _NOT_HERE or step is _copy_by_reading:
                raise
            # Both offsets stand where the last window ended: the next way goes on from there.
            step = _sendfile if step is _copy_file_range else _copy_by_reading
            continue
        if not copied:
            return
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(dst, done, copied, os.POSIX_FADV_DONTNEED)
        done += copied


def _copy_file_range(src: int, dst: int) -> int:
    return os.copy_file_range(src, dst, WRITEBACK_WINDOW)


def _sendfile(src: int, dst: int) -> int:
    return os.sendfile(dst, src, None, WRITEBACK_WINDOW)


def _copy_by_reading(src: int, dst: int) -> int:
    done = 0
    while done < WRITEBACK_WINDOW and (data := os.read(src, 1 << 20)):
        view = memoryview(data)
        while view:
            view = view[os.write(dst, view) :]
        done += len(data)
    return done


def _reflink(src: int, dst: int) -> bool:
    try:
        import fcntl  # guarded: not on Windows
    except ImportError:  # not on Windows
        return False
    try:
        fcntl.ioctl(dst, _FICLONE, src)
    except OSError:  # another filesystem, another device, or no reflinks here
        return False
    return True
