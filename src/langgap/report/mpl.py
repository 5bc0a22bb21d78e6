"""Matplotlib helpers shared by the figure modules: the Agg pyplot, tick-label sizes, saving.

matplotlib is imported on first use only, so importing a figure module stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import BinaryIO

    from matplotlib.figure import Figure


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def label_size(n: int) -> float:
    """Tick-label font size (points) for ``n`` labels on one axis: smaller as ``n`` grows."""
    return 9.0 if n <= 20 else 7.5 if n <= 40 else 6.5 if n <= 80 else 6.0


def save(fig: Figure, path: str | Path | BinaryIO) -> None:
    """Write ``fig`` to ``path`` (format from the suffix; PNG into an open binary file) and close it."""
    if isinstance(path, str | Path):
        fig.savefig(path, bbox_inches="tight")
    else:
        fig.savefig(path, bbox_inches="tight", format="png")
    pyplot().close(fig)
