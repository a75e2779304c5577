"""The fixed train/test split of the LCT development documents, and 5-fold CV on train.

Documented rule (do not change it: reported figures depend on it):

* ``h = int(sha1(doc_id.encode("utf-8")).hexdigest(), 16)`` where ``doc_id`` is the NCT id
  (the file stem, e.g. ``"NCT03860012"``);
* **split**: ``h % 100 < 80`` → ``train``, otherwise ``test`` (about 80/20);
* **fold** (train documents only): ``(h // 100) % 5`` → 0..4, i.e. the next decimal digit
  block of the same hash, so folds are independent of the train/test cut. Test documents
  have no fold.

The split depends only on the id, never on the set of documents present, so it is stable
when documents are added or removed. On the 712 dev documents it gives 584 train / 128 test (folds of 128, 121, 113, 108, 114).
The 294 LCT documents held out of ``lct/dev`` are a separate, untouched test set.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

__all__ = ["SPLITS", "N_FOLDS", "doc_hash", "split_of", "fold_of", "select", "cv_folds"]

SPLITS = ("train", "test", "all")
N_FOLDS = 5
TRAIN_PERCENT = 80


def doc_hash(doc_id: str) -> int:
    """The sha1 of the id as an integer."""
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16)


def split_of(doc_id: str) -> str:
    """``"train"`` or ``"test"`` for a document id."""
    return "train" if doc_hash(doc_id) % 100 < TRAIN_PERCENT else "test"


def fold_of(doc_id: str, n_folds: int = N_FOLDS) -> int | None:
    """CV fold (0..n_folds-1) of a train document; ``None`` for a test document."""
    h = doc_hash(doc_id)
    if h % 100 >= TRAIN_PERCENT:
        return None
    return (h // 100) % n_folds


def select(doc_ids: Iterable[str], split: str) -> list[str]:
    """The ids belonging to ``split`` (``train``, ``test`` or ``all``), order preserved."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    ids = list(doc_ids)
    if split == "all":
        return ids
    return [d for d in ids if split_of(d) == split]


def cv_folds(doc_ids: Iterable[str], n_folds: int = N_FOLDS) -> list[tuple[list[str], list[str]]]:
    """``[(fit ids, validation ids)]`` for each fold, over the train documents among ``doc_ids``."""
    train = [d for d in doc_ids if split_of(d) == "train"]
    folds = {d: fold_of(d, n_folds) for d in train}
    return [([d for d in train if folds[d] != k], [d for d in train if folds[d] == k]) for k in range(n_folds)]
