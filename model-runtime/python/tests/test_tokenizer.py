import json
import os
import unittest

from mome.tokenizer import WordPieceTokenizer, basic_tokenize, build_vocab

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
VOCAB = os.path.join(REPO, "..", "shared", "fixtures", "bert-base-uncased", "vocab.txt")
VECTORS = os.path.join(REPO, "test", "fixtures", "tokenizer", "vectors.jsonl")


class TokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = WordPieceTokenizer.from_file(VOCAB)

    def test_known_hugging_face_ids(self):
        self.assertEqual(self.tok.encode("Hello, my dog is cute")[0], [101, 7592, 1010, 2026, 3899, 2003, 10140, 102])
        self.assertEqual(self.tok.tokenize("unaffable"), ["una", "##ffa", "##ble"])
        self.assertEqual(self.tok.tokenize("x" * 101), ["[UNK]"])
        self.assertEqual(basic_tokenize("don't stop-me\x00now"), ["don", "'", "t", "stop", "-", "menow"])

    def test_shared_vectors(self):
        with open(VECTORS, encoding="utf-8") as f:
            vectors = [json.loads(l) for l in f]
        self.assertGreaterEqual(len(vectors), 500)
        bad = [v["text"] for v in vectors if self.tok.encode(v["text"], 512)[0] != v["ids"]]
        self.assertEqual(bad, [])

    def test_truncation_padding_and_tensors(self):
        ids, mask = self.tok.encode("word " * 100, 8)
        self.assertEqual((len(ids), ids[0], ids[-1]), (8, 101, 102))
        ids, mask = self.tok.encode("a dog", 6, pad=True)
        self.assertEqual(ids, [101, 1037, 3899, 102, 0, 0])
        self.assertEqual(mask, [1, 1, 1, 1, 0, 0])
        t_ids, t_mask = self.tok.encode_batch(["a dog", "two red cats"], 6)
        self.assertEqual(tuple(t_ids.shape), (2, 6))
        self.assertEqual(str(t_ids.dtype), "torch.int64")

    def test_build_vocab_spells_any_word(self):
        vocab = build_vocab(["A red circle.", "Two blue squares"])
        tok = WordPieceTokenizer(vocab)
        self.assertEqual(tok.tokenize("two red circles"), ["two", "red", "circle", "##s"])
        self.assertNotIn("[UNK]", tok.tokenize("zebra"))


if __name__ == "__main__":
    unittest.main()
