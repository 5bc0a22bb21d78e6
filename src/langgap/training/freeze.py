"""Which weights a training run keeps fixed: the word embeddings, the bottom transformer layers.

A frozen weight gets ``requires_grad=False``: no gradient, no optimizer state, and no place in a
checkpoint (:func:`langgap.accel.leave_out_of_checkpoints`). Freezing everything below layer
``n`` also spares autograd the backward pass through it.
"""

from __future__ import annotations

from typing import Any

import torch

from langgap.errors import InputError


def freeze(st: Any, *, embeddings: bool, layers: int) -> None:
    """Apply ``--freeze-embeddings`` and ``--freeze-layers`` to ``st``."""
    if embeddings:
        freeze_embeddings(st)
    freeze_layers(st, layers)


def freeze_embeddings(st: Any) -> None:
    """Keep the (large) word-embedding matrix fixed: no gradient, no optimizer state."""
    for module in st.modules():
        get = getattr(module, "get_input_embeddings", None)
        if callable(get) and get() is not None:
            get().weight.requires_grad_(False)
            return
    raise InputError("--freeze-embeddings: the model has no input-embedding matrix to freeze")


# where Hugging Face encoders keep their stack of layers: BERT, XLM-R, ELECTRA, MPNet, E5
# (encoder.layer); DistilBERT (transformer.layer); ModernBERT (layers); T5's encoder (encoder.block)
_LAYER_STACKS = ("encoder.layer", "transformer.layer", "layers", "encoder.layers", "encoder.block")


def transformer_of(st: Any) -> torch.nn.Module:
    """The Hugging Face model inside ``st`` (sentence-transformers' ``Transformer.auto_model``)."""
    for module in st.modules():
        inner = getattr(module, "auto_model", None)
        if isinstance(inner, torch.nn.Module):
            return inner
    raise InputError("--freeze-layers: the model has no Hugging Face transformer to freeze layers of")


def encoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The transformer layers of ``model``, bottom (next to the input) first."""
    for path in _LAYER_STACKS:
        found: Any = model
        for name in path.split("."):
            found = getattr(found, name, None)
        if isinstance(found, torch.nn.ModuleList) and len(found) > 0:
            return found
    raise InputError(
        f"--freeze-layers: cannot find the layers of {type(model).__name__} (looked for "
        f"{', '.join(_LAYER_STACKS)})"
    )


def input_embeddings(model: torch.nn.Module) -> torch.nn.Module:
    """The module that turns token ids into the first layer's input: BERT-style ``embeddings``
    (word, position and token-type embeddings and their LayerNorm), else the word embeddings."""
    found = getattr(model, "embeddings", None)
    if isinstance(found, torch.nn.Module):
        return found
    get = getattr(model, "get_input_embeddings", None)
    word = get() if callable(get) else None
    if isinstance(word, torch.nn.Module):
        return word
    raise InputError(f"--freeze-layers: cannot find the input embeddings of {type(model).__name__}")


def freeze_layers(st: Any, n: int) -> None:
    """Keep the bottom ``n`` transformer layers and the input embeddings fixed (``n > 0``).

    Nothing below layer ``n`` then needs a gradient, so autograd records no backward pass through
    the frozen part: a step backpropagates through the upper layers only (AlignFreeze, NAACL
    2025, freezes the lower half). ``n`` = every layer freezes the whole transformer (also what
    follows its last layer, e.g. BERT's pooler, unused by sentence-transformers), leaving only
    modules after it (a ``Dense`` head) to train.

    Raises:
        InputError: ``n`` exceeds the number of layers, or the layers cannot be found.
    """
    if n < 0:
        raise InputError(f"--freeze-layers must be >= 0, got {n}")
    if n == 0:
        return
    model = transformer_of(st)
    layers = encoder_layers(model)
    if n > len(layers):
        raise InputError(f"--freeze-layers {n}: the model has {len(layers)} transformer layers")
    frozen = [model] if n == len(layers) else [input_embeddings(model), *layers[:n]]
    for module in frozen:
        module.requires_grad_(False)
