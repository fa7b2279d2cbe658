"""Benchmark reply suggestions' retrieval: p95 time at 100 k indexed past replies and
recall@3 on held-out paraphrases, against a lexical-only (BM25) baseline in the same run.

Questions come from bench/data/suggest_intents.py: ten support intents in six languages,
three phrasings each. The index holds `--rows` customer questions built from the first two
phrasings (random greeting, order number and typos), each standing for the past reply that
answered it; queries are built from the third phrasing, never indexed. A hit is a top-3
result of the query's intent. In-process, no database: this measures assist.retrieval.

Usage: .venv/bin/python bench/suggest.py [--rows 100000] [--queries 600]
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from assist.retrieval import LanguageIndexes  # noqa: E402  (needs the repository on sys.path)
from bench.data.suggest_intents import GREETINGS, INTENTS  # noqa: E402

TARGET_P95_MS = 100


def typo(text: str, rng: random.Random, rate: float) -> str:
    """Drop, double or swap a letter here and there, as people type on phones."""
    chars = list(text)
    for i in range(len(chars) - 1):
        if chars[i].isalpha() and rng.random() < rate:
            kind = rng.randrange(3)
            if kind == 0:
                chars[i] = ""
            elif kind == 1:
                chars[i] = chars[i] * 2
            else:
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def question(intent: str, language: str, phrasing: int, rng: random.Random, *, typos: float) -> str:
    text = INTENTS[intent][language][phrasing].format(n=rng.randrange(10000, 99999))
    return typo(rng.choice(GREETINGS[language]) + text, rng, typos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--typos", type=float, default=0.03, help="chance of a typo per letter")
    args = parser.parse_args()
    rng = random.Random(13)
    pairs = [(intent, language) for intent in INTENTS for language in INTENTS[intent]]

    index = LanguageIndexes()
    intent_of = {}
    began = time.perf_counter()
    for row in range(args.rows):
        intent, language = rng.choice(pairs)
        index.add(row, question(intent, language, rng.randrange(2), rng, typos=args.typos), language=language)
        intent_of[row] = intent
    print(f"indexed {args.rows} past replies in {time.perf_counter() - began:.1f} s "
          f"({len(pairs)} intent-language pairs, {len(INTENTS)} intents)")

    queries = []
    for _ in range(args.queries):
        intent, language = rng.choice(pairs)
        queries.append((intent, language, question(intent, language, 2, rng, typos=args.typos)))

    print(f"{'ranking':28} {'recall@3':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name, options in (
        ("lexical only (BM25)", {"lexical": True, "dense": False}),
        ("hashed n-gram embedding", {"lexical": False, "dense": True}),
        ("fused (what assist uses)", {"lexical": True, "dense": True}),
    ):
        hits, timings = 0, []
        for intent, language, text in queries:
            started = time.perf_counter()
            found = index.search(text, limit=3, language=language, **options)
            timings.append((time.perf_counter() - started) * 1000)
            hits += any(intent_of[key] == intent for key, _ in found)
        timings.sort()
        print(f"{name:28} {hits / len(queries):9.3f} {statistics.median(timings):8.1f} "
              f"{timings[int(len(timings) * 0.95)]:8.1f}")
    print(f"target: p95 < {TARGET_P95_MS} ms at 100 k rows; the fused ranking above the lexical one")


if __name__ == "__main__":
    main()
