"""Writes test/fixtures/tokenizer/vectors.jsonl: varied sentences with their bert-base-uncased ids from
mome.tokenizer. Both tokenizers (Python and TypeScript) are tested against it.

usage: PYTHONPATH=model-runtime/python python3 tools/make_tokenizer_vectors.py ../shared/fixtures/bert-base-uncased/vocab.txt
"""
import json
import random
import sys

from mome.tokenizer import WordPieceTokenizer

EDGE = [
    "",
    " ",
    "\t\n\r",
    "Hello, my dog is cute",
    "HELLO World!!!",
    "Café, naïve façade; résumé — coöperate",
    "Ångström Øresund Straße İstanbul ǅemal",
    "東京タワーは高い。中文字符测试，好吗？",
    "한국어 문장입니다",
    "日本語とEnglishのmix123",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
    "x" * 99,
    "y" * 100,
    "z" * 101,
    "supercalifragilisticexpialidocious" * 4,
    "numbers 3.14159 1,000,000 42nd 007 -12 +7 1e-9 ½ ² ③",
    "punctuation!?.,;:'\"()[]{}<>/\\|@#$%^&*_-+=~`",
    "don't can't it's we're o'clock rock'n'roll",
    "state-of-the-art e-mail re-enter x-ray",
    "URL https://example.com/path?q=1&r=2#frag and user@example.org",
    "Greek: Σίσυφος ΟΔΟΣ οδός; Cyrillic: Москва ёлка; Arabic: مرحبا بالعالم",
    "Hebrew שלום, Thai สวัสดี, Devanagari नमस्ते",
    "combining: e\u0301 a\u0308 n\u0303 o\u0302",
    "zero\u200bwidth\u200cjoiner\u200dtext\ufeffbom",
    "control\x00chars\x07here\x1b[0m and \ufffd replacement",
    "nbsp\u00a0space\u2003em\u3000ideographic\u2028line\u2029para",
    "tabs\tand\nnewlines\r\nmixed",
    "[CLS] special [SEP] tokens [MASK] inside [UNK] text [PAD]",
    "[cls] lower-case specials are not special",
    "The left image contains exactly two dogs, and the right image contains one.",
    "A man riding a wave on top of a surfboard.",
    "Two red circles left of a large blue triangle on sand.",
    "ÀÉÎÕÜ àéîõü ÇçÑñ",
    "ﬁ ligature ﬀ ﬃ and ℌ ℍ ℑ letterlike",
    "fullwidth ＡＢＣ１２３！",
    "mathematical 𝐀𝐁𝐂 𝑥𝑦𝑧",
    "music 𝄞 and cuneiform 𒀀",
    "CJK ext B 𠀀𠀁 and compat 豈",
    "a" + "b" * 150 + " short",
    "unaffable unbelievably antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "1st 2nd 3rd 4th 21st 100th",
    "$100 €50 £20 ¥1000 ₹500",
    "C++ C# .NET Node.js",
    "...ellipsis… “quotes” ‘single’ «guillemets» „low“",
    "em—dash en–dash minus−sign",
    "°C ±5 × ÷ ≠ ≤ ≥ ∞ √",
    "   leading and trailing spaces   ",
    "MiXeD CaSe WoRdS",
]

WORDS = "a an the man woman dog cat red blue green small large circle square triangle left right above below next to on in with two three four five several many striped dotted plain bright dark shiny photo image picture shows there is are of and or not exactly at least one".split()


def synth(rng: random.Random) -> str:
    n = rng.randint(3, 18)
    words = [rng.choice(WORDS) for _ in range(n)]
    s = " ".join(words)
    if rng.random() < 0.5:
        s = s[0].upper() + s[1:]
    return s + rng.choice([".", "", "!", "?", " .", ","])


def main() -> None:
    tok = WordPieceTokenizer.from_file(sys.argv[1])
    rng = random.Random(7)
    sentences = EDGE + [synth(rng) for _ in range(480)]
    with open("test/fixtures/tokenizer/vectors.jsonl", "w", encoding="utf-8") as f:
        for s in sentences:
            ids, _ = tok.encode(s, max_len=512)
            f.write(json.dumps({"text": s, "ids": ids}, ensure_ascii=False) + "\n")
    print(f"{len(sentences)} vectors")


if __name__ == "__main__":
    main()
