"""Files and folders written so that a reader sees the old version or the new one, never a mix.

- :func:`write_bytes` / :func:`write_text`: a file written beside its target and renamed over it.
- :func:`staged_dir`: a run folder (results, report, comparison, saved model) is built complete in
  a temporary sibling and then takes the target's place in one step (:func:`replace_dir`: on
  Linux an atomic exchange of the two names, ``renameat2(RENAME_EXCHANGE)``); files of an earlier
  run never survive beside the new ones, and a run that fails or is killed on the way leaves the
  earlier folder as it was (its temporary sibling is removed on failure, or by the next run when
  the process was killed).
- :func:`check_out_dir`: before any work, ``--out`` must be creatable, not a file, and either new,
  empty or a run folder of the same kind (so a typo never replaces an unrelated folder).

Every write of a run folder goes through :func:`write_bytes`, so tests can make any one of them
fail and check that the folder is still the old run.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from langgap.errors import InputError

_TMP = ".tmp-"  # temporary siblings: .<name>.tmp-<pid>-<token>


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and one rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}{_TMP}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _libc_exchange(a: Path, b: Path) -> bool:
    """Swap two names atomically with Linux's renameat2; ``False`` where that is unavailable."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # old kernel or a filesystem without it
        return False
    raise OSError(err, os.strerror(err), str(b))


def exchange(a: str | Path, b: str | Path) -> None:
    """Swap the names of two existing paths: atomically on Linux; elsewhere by three renames
    through a third name (a crash in between leaves both contents under some name)."""
    a, b = Path(a), Path(b)
    if _libc_exchange(a, b):
        return
    spare = b.with_name(f".{b.name}{_TMP}{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(b, spare)
    os.rename(a, b)
    os.rename(spare, a)


def replace_dir(new: str | Path, target: str | Path) -> None:
    """Put folder ``new`` in the place of ``target`` (which may not exist) and delete the old one."""
    new, target = Path(new), Path(target)
    if target.exists():
        exchange(new, target)  # ``new`` now holds the old content
        shutil.rmtree(new, ignore_errors=True)
    else:
        os.rename(new, target)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: str | Path) -> None:
    """Remove temporary siblings of ``target`` left by processes that no longer run."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    for p in target.parent.glob(f".{target.name}{_TMP}*"):
        pid = p.name[len(f".{target.name}{_TMP}") :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def clean_stale_files(folder: str | Path) -> None:
    """Remove the temporary files inside ``folder`` that :func:`write_bytes` calls of processes
    that no longer run left behind (a killed ``langgap embed`` leaves its shard in flight)."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for p in folder.glob(f".*{_TMP}*"):
        pid = p.name.split(_TMP, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and p.is_file():
            p.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_dir(target: str | Path, *, keep: Iterable[str] = ()) -> Iterator[Path]:
    """Build the new content of folder ``target`` in a temporary sibling; on success it replaces
    ``target`` in one step (see the module docstring), on any failure ``target`` is untouched.

    Args:
        target: the folder to (re)write.
        keep: names of files in the current ``target`` to carry over (hard links where possible),
            e.g. ``results.json`` when only the report is rebuilt.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    tmp = target.with_name(f".{target.name}{_TMP}{os.getpid()}-{secrets.token_hex(4)}")
    tmp.mkdir()
    try:
        for name in keep:
            if (target / name).is_file():
                try:
                    os.link(target / name, tmp / name)
                except OSError:
                    shutil.copy2(target / name, tmp / name)
        yield tmp
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_out_dir(out: str | Path, markers: Iterable[str], what: str, option: str = "--out") -> Path:
    """Refuse an output folder before any work is done (one clear message, nothing written).

    ``out`` must not be a file nor lie under one, its parent must be writable, and it must be new,
    empty, or hold one of ``markers`` (a ``what`` from an earlier run, which will be replaced).
    Creates the missing parent folders.
    """
    out = Path(out).expanduser()
    for p in [out, *out.parents]:
        if p.exists() and not p.is_dir():
            where = "is a file" if p == out else f"lies under {p}, which is a file"
            raise InputError(f"{option} {out}: {where}; give a folder")
    markers = list(markers)
    if out.is_dir() and any(out.iterdir()) and not any((out / m).exists() for m in markers):
        sample = ", ".join(sorted(p.name for p in out.iterdir())[:3])
        raise InputError(
            f"{option} {out}: the folder holds other files ({sample}, ...) and no {what}; "
            "langgap replaces its output folder as a whole, so give a new or empty folder"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.with_name(f".{out.name}{_TMP}{os.getpid()}-probe")
        probe.mkdir()
        probe.rmdir()
    except OSError as e:
        raise InputError(f"{option} {out}: cannot write there ({e.strerror or e})") from None
    return out
