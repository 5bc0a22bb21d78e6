"""Encoders behind one protocol: sentence-transformers/HF models, precomputed arrays,
OpenAI-compatible endpoints; plus the de-duplicating on-disk cache."""

from __future__ import annotations

from typing import Any

from langgap.types import Encoder


def load_encoder(spec: str, **kwargs: Any) -> Encoder:
    """An encoder from a model spec.

    ``openai:http://HOST:PORT/v1#MODEL`` gives an OpenAI-compatible endpoint; anything else
    is a sentence-transformers / HF model id or local path. ``kwargs`` go to the adapter
    (``prompt``, ``prompt_name``, ``batch_size``, ``max_length``, ``device``, ``precision``,
    ``backend``).
    """
    if spec.startswith("openai:"):
        from langgap.encoders.openai import OpenAIEncoder, parse_openai_spec
        from langgap.errors import InputError

        if kwargs.get("prompt_name"):
            raise InputError(
                "--prompt-name needs a model with configured prompts; use --prompt with an endpoint"
            )
        for option in ("precision", "backend"):
            if kwargs.get(option) not in (None, "auto"):
                raise InputError(f"--{option} applies to a local model; an endpoint chooses its own")
        base_url, model = parse_openai_spec(spec)
        return OpenAIEncoder(
            base_url, model, prompt=kwargs.get("prompt"), batch_size=kwargs.get("batch_size", 64)
        )
    from langgap.encoders.st import SentenceTransformerEncoder

    return SentenceTransformerEncoder(spec, **kwargs)
