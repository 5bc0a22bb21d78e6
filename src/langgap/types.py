"""Shared types: the Encoder protocol and small aliases.

Any object with ``encode(texts) -> ndarray (N, D)`` is an encoder; everything else langgap
needs (a name for the results, a key for the embedding cache) is optional.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
LanguagePair = tuple[str, str]
# progress(done, total): called by long-running library code; the CLI draws the bar.
ProgressFn = Callable[[int, int], None]
# emb(lang, texts) -> (N, D): the embeddings of ``texts`` read as language ``lang`` (a per-language
# transform, e.g. langgap.adapt, may embed the same text differently in two languages)
LangEmbed = Callable[[str, list[str]], np.ndarray]


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into vectors.

    ``encode(texts)`` returns a float array of shape ``(len(texts), D)``, row ``i`` for
    ``texts[i]``. Vectors need not be normalised: every metric normalises.
    """

    def encode(self, texts: Sequence[str]) -> FloatArray: ...


def describe_encoder(encoder: Encoder) -> dict[str, Any]:
    """What results record about an encoder: its ``describe()`` if it has one."""
    describe = getattr(encoder, "describe", None)
    if callable(describe):
        return dict(describe())
    return {"name": type(encoder).__name__}
