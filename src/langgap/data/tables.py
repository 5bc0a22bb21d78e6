"""Tables through Hugging Face ``datasets``: the one module that imports it (lazily).

:func:`load_table` opens a :class:`~langgap.data.sources.TableSource` (Parquet, JSON lines,
JSON, CSV, a ``save_to_disk`` folder, a Hub dataset) and returns a :class:`Table`: its flat
column names with a kind each and the values of a column on request. Nested fields are
flattened to dotted names (``translation.de``). A CSV file is read as text, every cell a string
(empty cells stay ``""``), so its scores are parsed as a TSV's are. Files are converted in a
temporary cache that is removed after loading (nothing is written to the Hugging Face cache);
progress bars stay off (the library does not print).
"""

from __future__ import annotations

import contextlib
import csv
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgap.data.sources import TableSource
from langgap.errors import InputError, did_you_mean
from langgap.paths import hub_offline, hub_reachable

_LOADERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}
_NUMBER = ("int", "uint", "float", "double", "decimal")


@dataclass(frozen=True)
class Table:
    """A loaded table as the readers see it.

    Attributes:
        label: the source with ``@SPLIT`` when a split was picked (what errors and results name).
        kinds: column -> ``"text"``, ``"number"`` or another type name (``"bool"``, ``"list"``).
        rows: the row count.
        fetch: the values of one column, in row order (``None`` for a missing value).
    """

    label: str
    kinds: dict[str, str]
    rows: int
    fetch: Callable[[str], list[Any]]

    def column(self, name: str) -> list[Any]:
        return self.fetch(name)


def _kind(feature: Any) -> str:
    dtype = str(getattr(feature, "dtype", ""))
    if dtype in ("string", "large_string"):
        return "text"
    if dtype.startswith(_NUMBER):
        return "number"
    return dtype or type(feature).__name__.lower()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """``datasets``' progress bars and log messages off while loading (restored after)."""
    import datasets

    was_off = datasets.are_progress_bars_disabled()
    verbosity = datasets.logging.get_verbosity()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)  # its errors become our one line
    try:
        yield
    finally:
        datasets.logging.set_verbosity(verbosity)
        if not was_off:
            datasets.enable_progress_bars()


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as f:
        first = f.readline()
    try:
        header = next(csv.reader([first.decode("utf-8-sig")]), None)
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: invalid UTF-8 at byte {e.start} of the header line") from None
    if not header:
        raise InputError(f"{path}: file is empty (a CSV file starts with a header line of column names)")
    return header


def _load_file(path: Path) -> Any:
    import datasets

    if not path.is_file():
        raise InputError(f"{path}: {'is a directory, expected a file' if path.is_dir() else 'no such file'}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    loader = _LOADERS[path.suffix.lower()]
    kw: dict[str, Any] = {}
    if loader == "csv":
        header = _csv_header(path)
        kw = {"features": datasets.Features({c: datasets.Value("string") for c in header})}
        kw |= {"keep_default_na": False, "encoding": "utf-8-sig"}
    with tempfile.TemporaryDirectory(prefix="langgap-table-") as cache:
        try:
            return datasets.load_dataset(
                loader, data_files=str(path), split="train", cache_dir=cache, keep_in_memory=True, **kw
            )
        except Exception as e:  # the builders raise many types; the user needs one line
            if "corresponds to no data" in str(e):  # datasets' word for a table without rows
                raise InputError(f"{path}: no rows") from None
            raise InputError(f"{path}: cannot read as {loader}: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    cause = e.__cause__
    if (not text or text[0].startswith("An error occurred")) and cause is not None:
        return _first_line(cause)
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _pick_split(found: Any, src: TableSource) -> tuple[Any, TableSource]:
    """The split of a ``DatasetDict`` that ``src`` asks for (the only one when it names none)."""
    import datasets

    if not isinstance(found, datasets.DatasetDict):
        if src.split is not None and src.kind == "folder":
            raise InputError(f"{src.source}: a saved Dataset without splits; drop @{src.split}")
        return found, src
    splits = list(found)
    if src.split is None:
        if len(splits) != 1:
            raise InputError(
                f"{src.source}: a dataset with splits {', '.join(splits)}; pick one as {src.source}@SPLIT"
            )
        return found[splits[0]], src.with_split(splits[0])
    if src.split not in found:
        raise InputError(
            f"{src.source}: no split {src.split!r}{did_you_mean(src.split, splits)}; "
            f"splits: {', '.join(splits)}"
        )
    return found[src.split], src


def _load_hub(src: TableSource) -> Any:
    import datasets

    name, config = src.hub_id
    offline = hub_offline()
    if not offline and not hub_reachable():
        raise InputError(
            f"{src.label}: the Hugging Face Hub cannot be reached (HF_HUB_OFFLINE=1 reads a cached copy; "
            "or save the dataset with save_to_disk elsewhere and give its folder)"
        )
    try:
        return datasets.load_dataset(name, config, split=src.split)
    except Exception as e:  # offline misses, unknown ids and configs: one line each
        why = "not in the Hugging Face cache and HF_HUB_OFFLINE is set; " if offline else ""
        raise InputError(f"{src.label}: cannot load the Hub dataset: {why}{_first_line(e)}") from None


def _open(src: TableSource) -> tuple[Any, TableSource]:
    import datasets

    if src.kind == "file":
        return _load_file(Path(src.source)), src
    if src.kind == "hub":
        return _pick_split(_load_hub(src), src)
    try:
        found = datasets.load_from_disk(src.source)
    except Exception as e:  # a damaged or foreign folder
        raise InputError(f"{src.source}: cannot load the saved dataset: {_first_line(e)}") from None
    return _pick_split(found, src)


def load_table(src: TableSource) -> tuple[Table, TableSource]:
    """Open ``src``; returns the table and ``src`` with the split that was picked.

    Raises:
        InputError: no such file, an unreadable file, a folder with several splits and no
            ``@SPLIT`` (the message lists them), an unknown split, an unreachable Hub.
    """
    with _quiet():
        ds, src = _open(src)
        ds = ds.flatten()
    kinds = {name: _kind(feature) for name, feature in ds.features.items()}

    def fetch(name: str) -> list[Any]:
        return list(ds[name][:])

    return Table(src.label, kinds, len(ds), fetch), src
