"""2-D projections of embeddings for plots: UMAP when installed, PCA otherwise."""

from __future__ import annotations

from typing import Literal

import numpy as np

from langgap.metrics.similarity import normalize
from langgap.types import FloatArray

Method = Literal["auto", "pca", "umap"]


def pca_2d(x: FloatArray) -> np.ndarray:
    """First two principal components of the L2-normalised rows: (N, D) -> (N, 2)."""
    xn = normalize(x).astype(np.float64)
    xc = xn - xn.mean(axis=0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    out = xc @ vt[:2].T  # (N, 2)
    # fix the sign of each axis so the picture does not flip between runs
    signs = np.sign(out[np.abs(out).argmax(axis=0), [0, 1]])
    return out * np.where(signs == 0, 1, signs)


def project_2d(x: FloatArray, method: Method = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """Project rows of ``x`` to 2-D. Returns ``(coords (N, 2), method used)``."""
    if method in ("auto", "umap"):
        try:
            import umap  # type: ignore[import-not-found]
        except ImportError:
            if method == "umap":
                raise ValueError(
                    "UMAP asked for but umap-learn is not installed (pip install umap-learn)"
                ) from None
        else:
            reducer = umap.UMAP(n_components=2, metric="cosine", random_state=seed)
            return np.asarray(reducer.fit_transform(normalize(x))), "umap"
    return pca_2d(x), "pca"
