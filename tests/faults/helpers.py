"""Helpers of the fault-injection suite: folder snapshots, test data, a failing write."""

from __future__ import annotations

from pathlib import Path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes); ``{}`` for a missing folder."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary siblings a staged write left beside ``folder``."""
    return sorted(p.name for p in folder.parent.glob(f".{folder.name}.tmp-*"))


def small_data(folder: Path) -> dict[str, Path]:
    """A 24-row bitext and an STS file of the tiny model's vocabulary, under ``folder``."""
    bt = folder / "xx-yy.tsv"
    bt.parent.mkdir(parents=True, exist_ok=True)
    bt.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(24)), encoding="utf-8")
    sts = folder / "en-en.tsv"
    sts.write_text(
        "".join(f"{i % 5}\tw{i} w{i + 1}\tw{i} w{i + 3}\n" for i in range(40, 64)), encoding="utf-8"
    )
    return {"bitext": bt, "sts": sts}


class FailingWrite:
    """Stands in for ``langgap.atomic.write_bytes``: the ``at``-th call raises ``exc``, the others
    write. ``at=0`` only counts."""

    def __init__(self, real, at: int = 0, exc: BaseException | None = None) -> None:
        self.real, self.at, self.exc, self.calls = real, at, exc, 0

    def __call__(self, path, data) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise self.exc  # type: ignore[misc]
        self.real(path, data)
