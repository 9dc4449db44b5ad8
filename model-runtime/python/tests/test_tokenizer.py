"""mome.tokenizer is Hugging Face's BertTokenizer for bert-base-uncased, in plain Python. The ids below were
checked by hand against the real vocabulary (id = line number - 1); the shared vectors and Unicode block
hashes are the contract with the TypeScript tokenizer (test/unit/tokenizer.test.ts reads the same files)."""
import hashlib
import importlib.util
import json
import os
import re
import tempfile
import unicodedata
import unittest

from mome.tokenizer import WordPieceTokenizer, basic_tokenize, build_vocab, lower_each_char

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
VOCAB = os.path.join(REPO, "..", "shared", "fixtures", "bert-base-uncased", "vocab.txt")
FIXTURES = os.path.join(REPO, "test", "fixtures", "tokenizer")
TABLE_TS = os.path.join(REPO, "model-runtime", "src", "tokenizer", "unicode-classes.ts")
GENERATOR = os.path.join(REPO, "tools", "make-tokenizer-vectors.py")


def _fixture_unicode_version() -> str:
    with open(os.path.join(FIXTURES, "unicode-blocks.json"), encoding="utf-8") as f:
        return json.load(f)["unicode_version"]


class HandCheckedIds(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = WordPieceTokenizer.from_file(VOCAB)

    def check(self, text, tokens, ids):
        self.assertEqual(self.tok.tokenize(text), tokens)
        self.assertEqual(self.tok.encode(text, 512).input_ids, [101] + ids + [102])

    def test_the_hugging_face_example(self):
        self.check("Hello, my dog is cute", ["hello", ",", "my", "dog", "is", "cute"],
                   [7592, 1010, 2026, 3899, 2003, 10140])

    def test_wordpiece_continuations(self):
        self.check("unaffable", ["una", "##ffa", "##ble"], [14477, 20961, 3468])
        self.check("Straße", ["st", "##raße"], [2358, 27807])  # ß has no decomposition: it stays
        self.check("x" * 100, ["xx"] + ["##xx"] * 49, [22038] + [20348] * 49)

    def test_words_over_100_characters_are_unk(self):
        self.check("x" * 101, ["[UNK]"], [100])
        self.check("é" * 101, ["[UNK]"], [100])
        # the limit counts characters after accents are stripped: 120 code points, 60 letters
        self.check("e\u0301" * 60, ["ee"] + ["##ee"] * 29, [25212] + [4402] * 29)

    def test_lowercase_and_accents(self):
        self.check("Café", ["cafe"], [7668])
        self.check("résumé naïve", ["resume", "naive"], [13746, 15743])
        self.check("İstanbul", ["istanbul"], [9960])  # İ lower-cases to i + U+0307, the mark is stripped
        self.check("한", ["ᄒ", "##ᅡ", "##ᆫ"], [1469, 30006, 30021])  # NFD splits Hangul into jamo

    def test_capital_sigma_is_lowered_one_character_at_a_time(self):
        # str.lower() would give a final 'ς' (one token '##ος'); HF lowers per character: 'σ'.
        self.check("ΟΔΟΣ", ["ο", "##δ", "##ο", "##σ"], [1169, 29722, 29730, 29733])
        self.check("οδός", ["ο", "##δ", "##ος"], [1169, 29722, 15297])

    def test_punctuation_cjk_and_cleaning(self):
        self.check("state-of-the-art!", ["state", "-", "of", "-", "the", "-", "art", "!"],
                   [2110, 1011, 1997, 1011, 1996, 1011, 2396, 999])
        self.check("don't stop-me\x00now", ["don", "'", "t", "stop", "-", "men", "##ow"],
                   [2123, 1005, 1056, 2644, 1011, 2273, 5004])
        self.check("東京", ["東", "京"], [1879, 1755])
        self.check("a\tb\nc\r\nd\u2028e\u3000f", ["a", "b", "c", "d", "e", "f"], [1037, 1038, 1039, 1040, 1041, 1042])
        self.check("tab\x00le \ufffd a\u200bb", ["table", "ab"], [2795, 11113])
        self.check("", [], [])
        self.check(" \t\n ", [], [])

    def test_special_tokens(self):
        self.check("[CLS] a [MASK]", ["[CLS]", "a", "[MASK]"], [101, 1037, 103])
        self.check("a[SEP]b", ["a", "[SEP]", "b"], [1037, 102, 1038])
        self.check("[cls]", ["[", "cl", "##s", "]"], [1031, 18856, 2015, 1033])  # only the exact spelling
        self.check("[CLS\u200b]", ["[", "cl", "##s", "]"], [1031, 18856, 2015, 1033])
        cased = WordPieceTokenizer.from_file(VOCAB, lowercase=False)
        self.assertEqual(cased.tokenize("[CLS\u200b]"), ["[CLS]"])  # cleaned into a never_split token


class SharedVectors(unittest.TestCase):
    def test_ids_equal_the_shared_vectors(self):
        tok = WordPieceTokenizer.from_file(VOCAB)
        with open(os.path.join(FIXTURES, "vectors.jsonl"), encoding="utf-8") as f:
            vectors = [json.loads(line) for line in f]
        self.assertGreaterEqual(len(vectors), 500)
        bad = [v["text"] for v in vectors if tok.encode(v["text"], 512).input_ids != v["ids"]]
        self.assertEqual(bad, [])

    def test_every_code_point_tokenizes_as_the_block_hashes_say(self):
        with open(os.path.join(FIXTURES, "unicode-blocks.json"), encoding="utf-8") as f:
            want = json.load(f)
        if unicodedata.unidata_version != want["unicode_version"]:
            self.skipTest(f"this Python has Unicode {unicodedata.unidata_version}; the hashes are of "
                          f"{want['unicode_version']} (regenerate with tools/make-tokenizer-vectors.py)")
        size = want["block_size"]
        for mode in ("lowercase", "cased"):
            bad = []
            for b, expected in enumerate(want[mode]):
                text = " ".join(chr(cp) for cp in range(b * size, (b + 1) * size))
                tokens = basic_tokenize(lower_each_char(text)) if mode == "lowercase" else basic_tokenize(text, False)
                if hashlib.sha256("\n".join(tokens).encode("utf-8")).hexdigest()[:16] != expected:
                    bad.append(f"U+{b * size:04X}")
            self.assertEqual(bad, [], f"{mode}: blocks whose basic tokens changed")

    def test_the_typescript_class_table_is_this_pythons_unicodedata(self):
        if unicodedata.unidata_version != _fixture_unicode_version():
            self.skipTest(f"this Python has Unicode {unicodedata.unidata_version}")
        spec = importlib.util.spec_from_file_location("make_tokenizer_vectors", GENERATOR)
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        with open(TABLE_TS, encoding="utf-8") as f:
            source = f.read()
        self.assertEqual(source, gen.table_source(), "unicode-classes.ts is stale or edited: regenerate it")
        self.assertIn(f"UNICODE_VERSION = '{unicodedata.unidata_version}'", source)


class EncodeSemantics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = WordPieceTokenizer.from_file(VOCAB, max_len=8)

    def test_truncation_keeps_sep_last(self):
        ids, mask = self.tok.encode("one two three four five six seven eight nine")
        self.assertEqual(ids, [101, 2028, 2048, 2093, 2176, 2274, 2416, 102])
        self.assertEqual(mask, [1] * 8)
        self.assertEqual(len(self.tok.encode("word " * 100, 40).input_ids), 40)

    def test_padding_and_mask(self):
        enc = self.tok.encode("a dog", 6, pad=True)
        self.assertEqual(enc.input_ids, [101, 1037, 3899, 102, 0, 0])
        self.assertEqual(enc.attention_mask, [1, 1, 1, 1, 0, 0])
        self.assertEqual(self.tok.encode("a dog").input_ids, [101, 1037, 3899, 102])  # no padding by default
        self.assertEqual(self.tok.encode("", 4, pad=True), ([101, 102, 0, 0], [1, 1, 0, 0]))

    def test_batches(self):
        lists = self.tok.encode_batch(["a dog", "two red cats"], 6, as_tensors=False)
        self.assertEqual(lists.input_ids, [[101, 1037, 3899, 102, 0, 0], [101, 2048, 2417, 8870, 102, 0]])
        self.assertEqual(lists.attention_mask, [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]])
        longest = self.tok.encode_batch(["a dog", "two red cats"], 6, pad="longest", as_tensors=False)
        self.assertEqual(longest.input_ids, [[101, 1037, 3899, 102, 0], [101, 2048, 2417, 8870, 102]])
        ragged = self.tok.encode_batch(["a dog", "two red cats"], 6, pad=False)
        self.assertEqual([len(r) for r in ragged.input_ids], [4, 5])  # no tensor for ragged rows
        with self.assertRaises(ValueError):
            self.tok.encode_batch(["a dog", "two red cats"], 6, pad=False, as_tensors=True)
        with self.assertRaises(ValueError):
            self.tok.encode_batch(["a"], 6, pad="max")
        try:
            import torch
        except ImportError:
            return
        t = self.tok.encode_batch(["a dog", "two red cats"], 6)
        self.assertEqual(tuple(t.input_ids.shape), (2, 6))
        self.assertEqual(t.input_ids.dtype, torch.int64)
        self.assertEqual(t.input_ids.tolist(), lists.input_ids)
        self.assertEqual(t.attention_mask.tolist(), lists.attention_mask)

    def test_max_len_must_leave_room_for_cls_and_sep(self):
        with self.assertRaisesRegex(ValueError, "max_len must be an integer >= 2"):
            self.tok.encode("a", 1)


class Vocabularies(unittest.TestCase):
    def test_reading_follows_hf_load_vocab(self):
        tok = WordPieceTokenizer.from_text("[PAD]\r\n[UNK]\r[CLS]\n[SEP]\nhello\nhello\n")
        self.assertEqual(tok.vocab["hello"], 5)  # a repeated line keeps the later id
        self.assertEqual(tok.encode("hello world").input_ids, [2, 5, 1, 3])
        self.assertIsNone(tok.mask)
        self.assertEqual(tok.tokenize("[MASK]"), ["[UNK]"])  # special in the text, absent from the vocabulary

    def test_astral_characters_count_once(self):
        # the TypeScript twin must count code points, not UTF-16 units, against the 100-character limit
        tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "😀", "##😀"])
        self.assertEqual(tok.tokenize("😀" * 100), ["😀"] + ["##😀"] * 99)
        self.assertEqual(tok.tokenize("😀" * 101), ["[UNK]"])

    def test_errors_name_the_file_and_the_fix(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "vocab.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("[PAD]\n[CLS]\n[SEP]\nhello\n")
            with self.assertRaisesRegex(ValueError, re.escape(path) + r" has no \[UNK\] line"):
                WordPieceTokenizer.from_file(path)
            with self.assertRaisesRegex(FileNotFoundError, "No WordPiece vocabulary at"):
                WordPieceTokenizer.from_file(os.path.join(d, "missing.txt"))

    def test_build_vocab_makes_a_working_small_vocabulary(self):
        vocab = build_vocab(["A red circle.", "Two BLUE squares", "Σ-shaped"])
        self.assertEqual(vocab[:5], ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        self.assertEqual(len(vocab), len(set(vocab)))
        self.assertIn("σ", vocab)
        tok = WordPieceTokenizer(vocab, max_len=8)
        self.assertEqual((tok.pad, tok.unk, tok.cls, tok.sep, tok.mask), (0, 1, 2, 3, 4))  # looked up by name
        self.assertEqual(tok.tokenize("two red circles"), ["two", "red", "circle", "##s"])
        self.assertEqual(tok.tokenize("zebra 42"), ["z", "##e", "##b", "##r", "##a", "4", "##2"])
        ids, mask = tok.encode("a blue square", pad=True)
        self.assertEqual(ids[0], 2)
        self.assertEqual(ids[ids.index(3) + 1:], [0] * (8 - ids.index(3) - 1))


if __name__ == "__main__":
    unittest.main()
