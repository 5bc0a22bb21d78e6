"""Tokenizer coverage against a direct computation with the `tokenizers` library."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from langgap.metrics.coverage import coverage, readability

VOCAB = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "the", "cat", "sat", "on", "mat", "##s", "dog", "##gy", "a"]
TEXTS = ["the cat sat on the mat", "the cats sat on dogs", "a doggy zebra sat", "qq the mat"]


def _wordpiece() -> tuple[Tokenizer, PreTrainedTokenizerFast]:
    raw = Tokenizer(models.WordPiece({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]"
    )
    return raw, fast


def test_fertility_and_unknown_shares_equal_a_direct_tokenizers_computation():
    raw, fast = _wordpiece()
    tokens = words = unk = unk_chars = chars = split = 0
    ids: set[int] = set()
    for text in TEXTS:
        enc = raw.encode(text)  # the tokenizers library itself
        tokens += len(enc.ids)
        unk += sum(t == "[UNK]" for t in enc.tokens)
        unk_chars += sum(e - s for (s, e), t in zip(enc.offsets, enc.tokens, strict=True) if t == "[UNK]")
        ids.update(enc.ids)
        for w in text.split():
            words += 1
            chars += len(w)
            split += len(raw.encode(w).ids) >= 2
    c = coverage(fast, TEXTS, max_length=5)
    assert c.fertility == pytest.approx(tokens / words) and c.fertility_unit == "word"
    assert c.unk_rate == pytest.approx(unk / tokens) and unk == 2  # "zebra" and "qq"
    assert c.unk_char_rate == pytest.approx(unk_chars / chars)
    assert c.split_word_rate == pytest.approx(split / words)
    assert c.vocab_share == pytest.approx(len(ids) / len(VOCAB))
    over = sum(len(raw.encode(t).ids) > 5 for t in TEXTS)  # no special tokens in this tokenizer
    assert c.truncated_rate == pytest.approx(over / len(TEXTS)) and over == 2 and c.n_texts == 4


class Slow:
    """A tokenizer without offsets (the slow-tokenizer API): ``tokenize`` word by word."""

    is_fast = False
    unk_token, unk_token_id, model_max_length = "[UNK]", 0, 512

    def __init__(self, raw: Tokenizer) -> None:
        self.raw = raw

    def tokenize(self, text: str) -> list[str]:
        return self.raw.encode(text).tokens

    def convert_tokens_to_ids(self, tokens: list[str]) -> list[int]:
        return [self.raw.token_to_id(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.raw.id_to_token(i) for i in ids]

    def __call__(self, texts: list[str], add_special_tokens: bool = True) -> dict:
        return {"input_ids": [self.raw.encode(t).ids for t in texts]}

    def __len__(self) -> int:
        return self.raw.get_vocab_size()


def test_slow_tokenizer_word_by_word():
    raw, fast = _wordpiece()
    a, b = coverage(Slow(raw), TEXTS), coverage(fast, TEXTS)
    for key in ("fertility", "unk_rate", "unk_char_rate", "split_word_rate", "vocab_share"):
        assert getattr(a, key) == pytest.approx(getattr(b, key)), key


class Pairs(Slow):
    """A slow tokenizer that cuts each word into two-character pieces; a piece outside ``known``
    is ``[UNK]`` on its own, so a word can be partly unknown."""

    def __init__(self, known: set[str]) -> None:
        self.known, self.vocab = known, ["[UNK]", *sorted(known)]

    def tokenize(self, text: str) -> list[str]:
        pieces = [w[i : i + 2] for w in text.split() for i in range(0, len(w), 2)]
        return [p if p in self.known else "[UNK]" for p in pieces]

    def convert_tokens_to_ids(self, tokens: list[str]) -> list[int]:
        return [self.vocab.index(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.vocab[i] for i in ids]

    def __call__(self, texts: list[str], add_special_tokens: bool = True) -> dict:
        return {"input_ids": [self.convert_tokens_to_ids(self.tokenize(t)) for t in texts]}

    def __len__(self) -> int:
        return len(self.vocab)


def test_slow_tokenizer_counts_a_words_unknown_characters_by_its_share_of_unknown_pieces():
    """Without offsets, a word of ``n`` characters cut into ``p`` pieces of which ``u`` are unknown
    counts ``n * u / p`` unknown characters: "abcd" (ab + [UNK]) 2 of 4, "abab" 0, "xyxyxy" 6 of 6."""
    c = coverage(Pairs({"ab"}), ["abcd abab", "xyxyxy"])
    assert c.unk_char_rate == pytest.approx((2 + 0 + 6) / (4 + 4 + 6))
    assert c.unk_rate == pytest.approx(4 / 7) and c.split_word_rate == 1.0


def test_byte_fallback_and_unspaced_scripts():
    vocab = {"<unk>": 0, "▁a": 1, "<0xE3>": 2, "<0x81>": 3, "<0x82>": 4, "b": 5, "▁": 6}
    raw = Tokenizer(models.BPE(vocab, [], unk_token="<unk>", byte_fallback=True))
    fast = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>")
    text = "あああああああああああああああ"  # 15 characters, no space: one "word" longer than 10 characters
    c = coverage(fast, [text])
    assert c.fertility_unit == "character" and c.byte_fallback_rate == 1.0 and c.unk_rate == 0.0
    assert c.fertility == pytest.approx(len(raw.encode(text).ids) / len(text))


def test_readability_verdicts():
    _, fast = _wordpiece()
    assert readability(coverage(fast, ["qq zz the"]))[0] == "cannot read"
    verdict, reason = readability(coverage(fast, ["the cat sat on the mat"]))
    assert verdict == "reads" and reason == ""
