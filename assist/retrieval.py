"""In-memory retrieval of similar short texts, offline: two rankings fused by reciprocal rank.

- lexical: BM25 over words (lower case, accents folded);
- hashed embedding: each text's words and the 3- to 5-letter pieces of its words, weighted by
  sublinear frequency and hashed with a sign into `DIM` dimensions (the hashing trick, a
  random projection of the sparse n-gram vector), L2-normalised, compared by dot product.
  It matches inflections, typos and compounds that share letters ("rimborsato" ~ "rimborso")
  where words do not. It is not a learned model: no packaged dense model on PyPI ships its
  weights without a download from a model hub, so this is what runs offline.

Rows are appended; a removed row is masked out. Each row carries a language so a search
stays within the customer's.
"""

import math
import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Hashable

import numpy as np

WORD = re.compile(r"[^\W_]+", re.UNICODE)
NGRAM_SIZES = (3, 4, 5)
NGRAM_WEIGHT = 0.5  # a word counts as much as two of its letter n-grams
DIM = 256
BM25_K1, BM25_B = 1.2, 0.75
RRF_K = 60  # reciprocal rank fusion: rank r (from 0) scores 1 / (RRF_K + r)
COMMON_SHARE = 0.2  # a word in more than this share of rows says nothing: skipped by BM25


def fold(text: str) -> str:
    """Lower case without accents: "Rückerstattung" and "ruckerstattung" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def _features(tokens: list[str]) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for token in tokens:
        counts[token] += 1.0
        padded = f"<{token}>"
        for size in NGRAM_SIZES:
            for start in range(max(1, len(padded) - size + 1)):
                counts["#" + padded[start:start + size]] += NGRAM_WEIGHT
    return counts


def embed(text: str) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    for feature, count in _features(words(text)).items():
        hashed = zlib.crc32(feature.encode())
        sign = 1.0 if hashed & 0x80000000 else -1.0
        vector[hashed % DIM] += sign * (1.0 + math.log(count) if count >= 1 else count)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class Index:
    """Rows keyed by any hashable id, each with a language; add replaces a row with the same key."""

    def __init__(self, capacity: int = 1024) -> None:
        self._vectors = np.zeros((capacity, DIM), dtype=np.float32)
        self._alive = np.zeros(capacity, dtype=bool)
        self._lengths = np.zeros(capacity, dtype=np.float32)
        self._languages = np.zeros(capacity, dtype=np.int16)  # codes in _language_codes
        self._language_codes: dict[str, int] = {}
        self._keys: list[Hashable] = []
        self._rows: dict[Hashable, int] = {}
        self._postings: dict[str, list[int]] = defaultdict(list)  # word -> rows (repeated per occurrence)
        # Postings as (rows, term frequencies) arrays, rebuilt after they grow.
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._rows

    def row_keys(self) -> list[Hashable]:
        return list(self._rows)

    def add(self, key: Hashable, text: str, *, language: str = "") -> None:
        self.remove(key)
        row = len(self._keys)
        if row == len(self._alive):
            self._grow()
        tokens = words(text)
        self._vectors[row] = embed(text)
        self._alive[row] = True
        self._lengths[row] = len(tokens)
        self._languages[row] = self._language_codes.setdefault(language, len(self._language_codes))
        self._keys.append(key)
        self._rows[key] = row
        for token in tokens:
            self._postings[token].append(row)
            self._arrays.pop(token, None)

    def remove(self, key: Hashable) -> None:
        row = self._rows.pop(key, None)
        if row is not None:
            self._alive[row] = False

    def _grow(self) -> None:
        capacity = len(self._alive) * 2
        for name in ("_vectors", "_alive", "_lengths", "_languages"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _mask(self, language: str) -> np.ndarray:
        n = len(self._keys)
        mask = self._alive[:n].copy()
        if language:
            code = self._language_codes.get(language)
            mask &= self._languages[:n] == code if code is not None else False
        return mask

    def _top(self, scores: np.ndarray, mask: np.ndarray, limit: int) -> list[tuple[Hashable, float]]:
        scores = np.where(mask, scores, -np.inf)
        count = min(limit, int(mask.sum()))
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(self._keys[row], float(scores[row])) for row in top if scores[row] > 0]

    def lexical(self, text: str, *, limit: int, language: str = "") -> list[tuple[Hashable, float]]:
        """BM25 over words."""
        n = len(self._keys)
        mask = self._mask(language)
        alive = int(mask.sum())
        if not alive:
            return []
        lengths = self._lengths[:n]
        average = float(lengths[mask].mean()) or 1.0
        scores = np.zeros(n, dtype=np.float32)
        for token in set(words(text)):
            if token not in self._postings:
                continue
            arrays = self._arrays.get(token)
            if arrays is None:
                arrays = self._arrays[token] = np.unique(np.asarray(self._postings[token]), return_counts=True)
            unique, tf = arrays
            df = len(unique)
            if df > COMMON_SHARE * alive and alive > 20:
                continue
            idf = math.log(1 + (alive - df + 0.5) / (df + 0.5))
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[unique] / average)
            scores[unique] += idf * tf * (BM25_K1 + 1) / (tf + norm)
        return self._top(scores, mask, limit)

    def dense(self, text: str, *, limit: int, language: str = "") -> list[tuple[Hashable, float]]:
        """Cosine of the hashed embeddings."""
        n = len(self._keys)
        if not n:
            return []
        return self._top(self._vectors[:n] @ embed(text), self._mask(language), limit)

    def search(self, text: str, *, limit: int = 3, language: str = "", depth: int = 30,
               lexical: bool = True, dense: bool = True) -> list[tuple[Hashable, float]]:
        """The rankings fused: a row high in either, or fairly high in both, comes first."""
        fused: dict[Hashable, float] = defaultdict(float)
        rankings = []
        if lexical:
            rankings.append(self.lexical(text, limit=depth, language=language))
        if dense:
            rankings.append(self.dense(text, limit=depth, language=language))
        for ranking in rankings:
            for rank, (key, _) in enumerate(ranking):
                fused[key] += 1 / (RRF_K + rank)
        return sorted(fused.items(), key=lambda item: -item[1])[:limit]


class LanguageIndexes:
    """One Index per language, so a search scores only the rows in the customer's language."""

    def __init__(self) -> None:
        self._indexes: dict[str, Index] = {}
        self._language_of: dict[Hashable, str] = {}

    def __len__(self) -> int:
        return len(self._language_of)

    def row_keys(self) -> list[Hashable]:
        return list(self._language_of)

    def add(self, key: Hashable, text: str, *, language: str = "") -> None:
        self.remove(key)
        self._indexes.setdefault(language, Index()).add(key, text)
        self._language_of[key] = language

    def remove(self, key: Hashable) -> None:
        language = self._language_of.pop(key, None)
        if language is not None:
            self._indexes[language].remove(key)

    def search(self, text: str, *, language: str, **options) -> list[tuple[Hashable, float]]:
        index = self._indexes.get(language)
        return index.search(text, **options) if index is not None else []
