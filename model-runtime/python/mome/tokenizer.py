"""BERT's uncased WordPiece tokenizer in plain Python, equal to Hugging Face's BertTokenizer for
bert-base-uncased as the official VLMo code calls it (transformers 4.8.1: ``tokenizer(text,
padding="max_length", truncation=True, max_length=max_text_len)``), for training without
``transformers``.

The steps are HF's, in HF's order: special tokens in the text are kept whole; the rest is lower-cased
one character at a time (PreTrainedTokenizer.tokenize does this with a regex before BasicTokenizer runs,
which is why a final capital sigma becomes 'σ', not 'ς'); BasicTokenizer cleans the text (drops U+0000,
U+FFFD and control characters, maps whitespace to ' '), puts spaces around CJK ideographs, splits on
whitespace, lower-cases and strips accents (NFD, drop Mn), splits punctuation; WordpieceTokenizer does
greedy longest-match-first with '##' continuations, [UNK] for words over 100 characters or that cannot be
spelled. The TypeScript twin is model-runtime/src/tokenizer; test/fixtures/tokenizer/ checks both agree.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, List, NamedTuple, Optional, Sequence, Union

MAX_CHARS_PER_WORD = 100
# BertTokenizer.all_special_tokens: never split, never lower-cased, looked up by name in the vocabulary.
SPECIAL_TOKENS = ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
PAD_MODES = ("max_length", "longest", False)


class Encoding(NamedTuple):
    input_ids: List[int]
    attention_mask: List[int]


class BatchEncoding(NamedTuple):
    input_ids: object  # List[List[int]] or a torch.LongTensor [B, L]
    attention_mask: object


# --- HF's character classes, verbatim semantics -------------------------------------------------

def _is_whitespace(ch: str) -> bool:
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    # ASCII symbols such as '$', '^', '`' are not Unicode P* but BERT splits them too.
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp: int) -> bool:
    # The CJK Unified Ideographs blocks as BERT defines them (not Hangul, Hiragana or Katakana).
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


# --- BasicTokenizer ----------------------------------------------------------------------------

def _clean_text(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        out.append(" " if _is_whitespace(ch) else ch)
    return "".join(out)


def _tokenize_chinese_chars(text: str) -> str:
    return "".join(f" {ch} " if _is_chinese_char(ord(ch)) else ch for ch in text)


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def _split_on_punc(text: str) -> List[str]:
    if text in SPECIAL_TOKENS:
        return [text]
    out: List[str] = []
    current: List[str] = []
    for ch in text:
        if _is_punctuation(ch):
            if current:
                out.append("".join(current))
                current = []
            out.append(ch)
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return out


def whitespace_tokenize(text: str) -> List[str]:
    return text.split()  # Python's str.isspace set, as HF's whitespace_tokenize


def basic_tokenize(text: str, lowercase: bool = True) -> List[str]:
    """HF BasicTokenizer.tokenize(text, never_split=SPECIAL_TOKENS) with tokenize_chinese_chars=True and
    strip_accents following lowercase."""
    text = _tokenize_chinese_chars(_clean_text(text))
    split: List[str] = []
    for token in whitespace_tokenize(text):
        if token not in SPECIAL_TOKENS and lowercase:
            token = _strip_accents(token.lower())
        split.extend(_split_on_punc(token))
    return whitespace_tokenize(" ".join(split))


def lower_each_char(text: str) -> str:
    """What HF's `re.sub(r"(specials)|(.+?)", ... .lower())` does to text outside special tokens: lower-case
    one character at a time. str.lower() equals that except for its one context rule, final sigma."""
    if "\u03a3" not in text:
        return text.lower()
    return "".join(ch.lower() for ch in text)


# --- The tokenizer -----------------------------------------------------------------------------

def read_vocab_lines(text: str) -> List[str]:
    """Lines as HF's load_vocab reads them: universal newlines, one token per line, the last newline optional."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class WordPieceTokenizer:
    def __init__(self, tokens: Sequence[str], max_len: int = 40, lowercase: bool = True, source: str = "vocabulary"):
        self.id_to_token = list(tokens)
        self.vocab = {}
        for i, t in enumerate(self.id_to_token):
            self.vocab[t] = i  # a repeated line takes the later id, as HF's load_vocab does
        self.source = source

        def need(name: str) -> int:
            if name not in self.vocab:
                raise ValueError(
                    f"{source} has no {name} line: a BERT WordPiece vocabulary lists [PAD], [UNK], [CLS] and [SEP] "
                    "(and [MASK]) one token per line; use the vocab.txt that came with the checkpoint."
                )
            return self.vocab[name]

        self.cls, self.sep, self.pad, self.unk = need("[CLS]"), need("[SEP]"), need("[PAD]"), need("[UNK]")
        self.mask: Optional[int] = self.vocab.get("[MASK]")
        _check_max_len(max_len, source)
        self.max_len = max_len
        self.lowercase = lowercase

    @classmethod
    def from_text(cls, text: str, max_len: int = 40, lowercase: bool = True, source: str = "vocabulary"):
        return cls(read_vocab_lines(text), max_len, lowercase, source)

    @classmethod
    def from_file(cls, path: str, max_len: int = 40, lowercase: bool = True) -> "WordPieceTokenizer":
        try:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"No WordPiece vocabulary at {path}: pass the model's vocab.txt.") from None
        return cls.from_text(text, max_len, lowercase, source=path)

    def __len__(self) -> int:
        return len(self.id_to_token)

    def _word_piece(self, word: str, out: List[int]) -> None:
        if len(word) > MAX_CHARS_PER_WORD:  # len counts code points in Python, as HF's list(token)
            out.append(self.unk)
            return
        pieces, start, n = [], 0, len(word)
        while start < n:
            end, found = n, None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(sub)
                if found is not None:
                    break
                end -= 1
            if found is None:
                out.append(self.unk)
                return
            pieces.append(found)
            start = end
        out.extend(pieces)

    def tokenize_ids(self, text: str) -> List[int]:
        """Token ids without [CLS]/[SEP], no truncation."""
        ids: List[int] = []
        for i, part in enumerate(_SPECIAL_SPLIT.split(text)):
            if i % 2 == 1:  # a special token written in the text
                ids.append(self.vocab.get(part, self.unk))
                continue
            if not part:
                continue
            if self.lowercase:
                part = lower_each_char(part)
            for word in basic_tokenize(part, self.lowercase):
                self._word_piece(word, ids)
        return ids

    def tokenize(self, text: str) -> List[str]:
        return [self.id_to_token[i] for i in self.tokenize_ids(text)]

    def encode(self, text: str, max_len: Optional[int] = None, pad: bool = False) -> Encoding:
        """[CLS] tokens [SEP], truncated to max_len keeping [SEP] last (HF truncation=True); padded to max_len
        with [PAD] and mask 0 when `pad`."""
        max_len = self.max_len if max_len is None else max_len
        _check_max_len(max_len, "encode")
        ids = [self.cls] + self.tokenize_ids(text)[: max_len - 2] + [self.sep]
        mask = [1] * len(ids)
        if pad:
            ids += [self.pad] * (max_len - len(ids))
            mask += [0] * (max_len - len(mask))
        return Encoding(ids, mask)

    def encode_batch(
        self,
        texts: Iterable[str],
        max_len: Optional[int] = None,
        pad: Union[str, bool] = "max_length",
        as_tensors: Optional[bool] = None,
    ) -> BatchEncoding:
        """Rows padded to max_len ('max_length', as the official loader), to the longest row ('longest'), or not
        at all (False). int64 torch tensors [B, L] when `as_tensors` (None: when torch imports and the rows are of
        one length), else lists of lists."""
        if pad not in PAD_MODES:
            raise ValueError(f"pad must be one of {PAD_MODES}, not {pad!r}")
        rows = [self.encode(t, max_len) for t in texts]
        width = self.max_len if max_len is None else max_len
        if pad == "longest":
            width = max((len(r.input_ids) for r in rows), default=0)
        if pad:
            rows = [Encoding(r.input_ids + [self.pad] * (width - len(r.input_ids)),
                             r.attention_mask + [0] * (width - len(r.attention_mask))) for r in rows]
        ids = [r.input_ids for r in rows]
        mask = [r.attention_mask for r in rows]
        ragged = len({len(r) for r in ids}) > 1
        if as_tensors and ragged:
            raise ValueError("rows differ in length with pad=False: pass pad='longest' or 'max_length' for a tensor")
        if as_tensors is False or ragged:
            return BatchEncoding(ids, mask)
        try:
            import torch  # lazy: the tokenizer itself needs no torch
        except ImportError:
            if as_tensors:
                raise ImportError("encode_batch(as_tensors=True) needs torch; install it or pass as_tensors=False")
            return BatchEncoding(ids, mask)
        return BatchEncoding(torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long))

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> List[str]:
        return [self.id_to_token[i] for i in ids]


def _check_max_len(max_len: object, where: str) -> None:
    if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 2:
        raise ValueError(f"{where}: max_len must be an integer >= 2 (room for [CLS] and [SEP]), not {max_len!r}")


def build_vocab(words: Iterable[str], extra_pieces: Iterable[str] = ()) -> List[str]:
    """A BERT-style vocabulary for a small closed grammar: [PAD] [UNK] [CLS] [SEP] [MASK] first (the tokenizer
    looks them up by name, so their ids need not be BERT's 0/100/101/102/103), ASCII punctuation and digits,
    every basic-tokenized word, then single letters with their '##' continuations so any a-z word can be spelled."""
    vocab: List[str] = []
    seen = set()

    def add(t: str) -> None:
        if t not in seen:
            seen.add(t)
            vocab.append(t)

    for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        add(t)
    for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123456789":
        add(ch)
    for w in sorted({t for word in words for t in basic_tokenize(lower_each_char(word))}):
        add(w)
    for p in extra_pieces:
        add(p)
    for c in "abcdefghijklmnopqrstuvwxyz":
        add(c)
        add("##" + c)
    for d in "0123456789":
        add("##" + d)
    return vocab
