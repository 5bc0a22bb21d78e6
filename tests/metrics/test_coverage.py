"""Tokenizer coverage against a direct computation with the `tokenizers` library."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from langgap.metrics.coverage import Coverage, coverage, readability

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


class Pairs:
    """A slow tokenizer that cuts each word into two-character pieces; a piece outside ``known``
    is ``[UNK]`` on its own, so a word can be partly unknown. Like many hand-written tokenizers it
    has neither ``is_fast`` nor ``model_max_length``."""

    unk_token, unk_token_id = "[UNK]", 0

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
    # no model_max_length: no limit (a 120-piece text is not truncated) unless max_length says so
    long = ["ab" * 240]
    assert coverage(Pairs({"ab"}), long).truncated_rate == 0.0
    assert coverage(Pairs({"ab"}), long, max_length=100).truncated_rate == 1.0


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


def _bpe(vocab: list[str], merges=(), **kw) -> PreTrainedTokenizerFast:
    raw = Tokenizer(models.BPE({w: i for i, w in enumerate(vocab)}, list(merges), unk_token="<unk>", **kw))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>")


def test_fast_tokenizer_counts_the_characters_of_each_unknown_token():
    """With offsets, only the characters inside an unknown token count: "abz" is "ab" + <unk>, so
    1 of its 3 characters (the word-by-word estimate of the slow path would say 3 * 1/2)."""
    fast = _bpe(["<unk>", "a", "b", "ab"], [("a", "b")])
    assert fast.tokenize("abz") == ["ab", "<unk>"]
    c = coverage(fast, ["abz ab"])
    assert c.unk_char_rate == pytest.approx(1 / 5) and c.unk_rate == pytest.approx(1 / 3)


def test_coverage_of_one_token_and_of_the_ten_character_boundary():
    """Rates with a single token, word or character are that token's (no smoothing); a script
    counts as unspaced only above 10 characters per word; a tokenizer's own special tokens are
    left out of the counts but count towards truncation."""
    _, fast = _wordpiece()
    one = coverage(fast, ["q"])  # one word, one character, one unknown token
    assert (one.fertility, one.unk_rate, one.unk_char_rate, one.split_word_rate) == (1.0, 1.0, 1.0, 0.0)
    assert coverage(fast, ["cats"]).split_word_rate == 1.0  # cat + ##s
    byte = _bpe(["<unk>", "<0x7A>", "a"], byte_fallback=True)
    assert coverage(byte, ["z"]).byte_fallback_rate == 1.0
    assert coverage(byte, ["z", "z a", "a"]).byte_fallback_rate == 2 / 4  # summed over the texts
    assert coverage(fast, ["abcdefghij"]).fertility_unit == "word"  # exactly 10 characters
    assert coverage(fast, ["abcdefghijk"]).fertility_unit == "character"
    raw, _ = _wordpiece()
    raw.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )
    special = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]"
    )
    plain = coverage(fast, TEXTS, max_length=5)
    framed = coverage(special, TEXTS, max_length=5)
    assert (framed.fertility, framed.unk_rate, framed.vocab_share) == (
        plain.fertility,
        plain.unk_rate,
        plain.vocab_share,
    )
    over = sum(len(raw.encode(t).ids) > 5 for t in TEXTS)  # [CLS] and [SEP] included
    assert framed.truncated_rate == over / len(TEXTS) > plain.truncated_rate


def test_coverage_limit_from_the_tokenizer_and_refusals():
    """Without ``max_length`` the tokenizer's ``model_max_length`` is the limit; no text at all is
    refused; the result serialises field by field."""
    _, fast = _wordpiece()
    fast.model_max_length = 5
    assert coverage(fast, TEXTS).truncated_rate == 0.5
    with pytest.raises(ValueError, match="^coverage needs at least one non-empty text$"):
        coverage(fast, ["", "  "])
    c = coverage(fast, TEXTS)
    assert c.to_json() == {f: getattr(c, f) for f in c.__dataclass_fields__}


@pytest.mark.parametrize(
    "rates,verdict,reason",
    [
        ({"unk_char_rate": 0.9}, "cannot read", "90% of its characters become unknown tokens"),
        ({"unk_char_rate": 0.2}, "cannot read", "20% of its characters become unknown tokens"),
        ({"unk_char_rate": 0.1049}, "reads poorly", "10% of its characters become unknown tokens"),
        ({"unk_char_rate": 0.02}, "reads poorly", "2% of its characters become unknown tokens"),
        ({"fertility": 4.0}, "reads poorly", "4.0 tokens per word"),
        ({"fertility": 2.0, "fertility_unit": "character"}, "reads poorly", "2.0 tokens per character"),
        ({"fertility": 1.5, "fertility_unit": "character"}, "reads poorly", "1.5 tokens per character"),
        ({"fertility": 2.0}, "reads", ""),
        ({"byte_fallback_rate": 0.1}, "reads poorly", "10% of its tokens are raw bytes"),
        ({"byte_fallback_rate": 0.6}, "reads poorly", "60% of its tokens are raw bytes"),
        (
            {"unk_char_rate": 0.05, "fertility": 5.0, "byte_fallback_rate": 0.3},
            "reads poorly",
            "5% of its characters become unknown tokens; 5.0 tokens per word; 30% of its tokens are raw bytes",
        ),
        ({}, "reads", ""),
    ],
)
def test_readability_verdicts_at_their_thresholds_word_for_word(rates, verdict, reason):
    base = {"fertility": 1.2, "fertility_unit": "word", "unk_char_rate": 0.0, "byte_fallback_rate": 0.0}
    c = Coverage(
        **{**base, **rates}, unk_rate=0.0, split_word_rate=0.0, truncated_rate=0.0, vocab_share=0.1, n_texts=3
    )
    assert readability(c) == (verdict, reason)
