"""A fixed word <-> id mapping whose id 0 is always the unknown-word token."""

from __future__ import annotations

from typing import Iterable

DEFAULT_WORDS = (
    "the cat dog sat ran on in mat park house big small red blue quickly "
    "slowly jumped over under a to happy played friendly barked stood car "
    "moved walking person stopped clever climbed brown bird flew fast drove "
    "green tall tree swayed"
).split()


class Vocabulary:
    """Words and their integer ids; id 0 is the unknown-word token ``unk``.

    Parameters
    ----------
    words : iterable of str
        The real words, in id order starting at 1. Must be non-empty strings,
        without duplicates and without ``unk`` itself.
    unk : str, default ``"<unk>"``
        The token that every unknown word encodes to (id 0).

    ``encode(word) -> int`` gives 0 for any word not in the vocabulary, so a
    model never sees an id outside ``range(len(vocab))``.
    """

    def __init__(self, words: Iterable[str], unk: str = "<unk>") -> None:
        if not isinstance(unk, str) or not unk:
            raise TypeError(f"unk must be a non-empty str, got {unk!r}")
        if isinstance(words, str):
            raise TypeError("words must be an iterable of str, not a single str")
        words = list(words)
        for word in words:
            if not isinstance(word, str) or not word:
                raise TypeError(f"every word must be a non-empty str, got {word!r}")
        seen: set[str] = set()
        duplicates = sorted({w for w in words if w in seen or seen.add(w)})
        if duplicates:
            raise ValueError(f"duplicate words in vocabulary: {duplicates}")
        if unk in seen:
            raise ValueError(f"the unknown token {unk!r} must not be listed among the words")
        self._unk = unk
        self._words = [unk, *words]
        self._ids = {word: index for index, word in enumerate(self._words)}

    @property
    def unk(self) -> str:
        """The unknown-word token (id 0)."""
        return self._unk

    @property
    def words(self) -> list[str]:
        """All tokens in id order, ``unk`` first (a new list each time)."""
        return list(self._words)

    def encode(self, word: str) -> int:
        """Return the id of ``word`` (a str); 0 (``unk``) when it is unknown."""
        if not isinstance(word, str):
            raise TypeError(f"encode expects a str, got {type(word).__name__}: {word!r}")
        return self._ids.get(word, 0)

    def decode(self, index: int) -> str:
        """Return the token whose id is ``index`` (an int in ``range(len(self))``)."""
        if isinstance(index, bool) or not hasattr(index, "__index__"):
            raise TypeError(f"decode expects an integer id, got {type(index).__name__}: {index!r}")
        index = index.__index__()
        if not 0 <= index < len(self._words):
            raise IndexError(f"word id {index} is out of range: valid ids are 0..{len(self._words) - 1}")
        return self._words[index]

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._ids

    def __iter__(self):
        return iter(list(self._words))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._words == other._words

    def __hash__(self) -> int:
        return hash(tuple(self._words))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self._words) - 1} words + {self._unk!r})"


def default_vocabulary() -> Vocabulary:
    """The course's vocabulary: the 42 real words of the original exercise plus ``<unk>``."""
    return Vocabulary(DEFAULT_WORDS)
