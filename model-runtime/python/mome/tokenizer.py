"""BERT's uncased WordPiece tokenizer, equal to Hugging Face's BertTokenizer for bert-base-uncased as the
official VLMo code uses it (transformers 4.8), in plain Python for training. The TypeScript twin is
model-runtime/src/tokenizer; test/fixtures/tokenizer/vectors.jsonl checks that both agree."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, List, Sequence

MAX_CHARS_PER_WORD = 100
SPECIALS = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]


def _is_whitespace(ch: str) -> bool:
    return ch in (" ", "\t", "\n", "\r") or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
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


def basic_tokenize(text: str, lowercase: bool = True) -> List[str]:
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    tokens = []
    for token in "".join(out).split():
        if lowercase:
            token = "".join(c for c in unicodedata.normalize("NFD", token.lower()) if unicodedata.category(c) != "Mn")
        current = ""
        for ch in token:
            if _is_punctuation(ch):
                if current:
                    tokens.append(current)
                tokens.append(ch)
                current = ""
            else:
                current += ch
        if current:
            tokens.append(current)
    return " ".join(tokens).split()


class WordPieceTokenizer:
    def __init__(self, tokens: Sequence[str], max_len: int = 40, lowercase: bool = True):
        self.id_to_token = list(tokens)
        self.vocab = {}
        for i, t in enumerate(self.id_to_token):
            self.vocab.setdefault(t, i)
        for name in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"):
            if name not in self.vocab:
                raise ValueError(f"The vocabulary has no {name} token.")
        self.cls, self.sep, self.pad, self.unk = (self.vocab[n] for n in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"))
        self.mask = self.vocab.get("[MASK]")
        self.max_len = max_len
        self.lowercase = lowercase
        present = [re.escape(s) for s in SPECIALS if s in self.vocab]
        self._special = re.compile(f"({'|'.join(present)})")

    @classmethod
    def from_file(cls, path: str, max_len: int = 40, lowercase: bool = True) -> "WordPieceTokenizer":
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls([l.rstrip("\r") for l in lines], max_len, lowercase)

    def __len__(self) -> int:
        return len(self.id_to_token)

    def _word_piece(self, word: str, out: List[int]) -> None:
        chars = list(word)
        if len(chars) > MAX_CHARS_PER_WORD:
            out.append(self.unk)
            return
        pieces, start = [], 0
        while start < len(chars):
            end, found = len(chars), None
            while start < end:
                sub = ("##" if start > 0 else "") + "".join(chars[start:end])
                if sub in self.vocab:
                    found = self.vocab[sub]
                    break
                end -= 1
            if found is None:
                out.append(self.unk)
                return
            pieces.append(found)
            start = end
        out.extend(pieces)

    def tokenize_ids(self, text: str) -> List[int]:
        ids: List[int] = []
        for part in self._special.split(text):
            if not part:
                continue
            if part in SPECIALS and part in self.vocab:
                ids.append(self.vocab[part])
                continue
            for word in basic_tokenize(part, self.lowercase):
                self._word_piece(word, ids)
        return ids

    def tokenize(self, text: str) -> List[str]:
        return [self.id_to_token[i] for i in self.tokenize_ids(text)]

    def encode(self, text: str, max_len: int | None = None, pad: bool = False):
        max_len = max_len or self.max_len
        ids = [self.cls] + self.tokenize_ids(text)[: max(0, max_len - 2)] + [self.sep]
        mask = [1] * len(ids)
        if pad:
            ids += [self.pad] * (max_len - len(ids))
            mask += [0] * (max_len - len(mask))
        return ids, mask

    def encode_batch(self, texts: Iterable[str], max_len: int | None = None, as_tensors: bool = True):
        """Padded to max_len as the official loader does; torch int64 tensors when as_tensors."""
        max_len = max_len or self.max_len
        pairs = [self.encode(t, max_len, pad=True) for t in texts]
        ids = [p[0] for p in pairs]
        mask = [p[1] for p in pairs]
        if not as_tensors:
            return ids, mask
        import torch

        return torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long)


def build_vocab(words: Iterable[str], extra_pieces: Iterable[str] = ()) -> List[str]:
    """A BERT-style vocabulary for a small closed grammar: the specials, ASCII punctuation and digits, every
    (basic-tokenized, lower-cased) word, single letters and their '##' continuations so any word can be spelled."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    seen = set(specials)
    vocab = list(specials)

    def add(t: str) -> None:
        if t not in seen:
            seen.add(t)
            vocab.append(t)

    for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123456789":
        add(ch)
    for w in sorted({t for word in words for t in basic_tokenize(word)}):
        add(w)
    for p in extra_pieces:
        add(p)
    for c in "abcdefghijklmnopqrstuvwxyz":
        add(c)
        add("##" + c)
    for d in "0123456789":
        add("##" + d)
    return vocab
