"""A small stochastic grammar over the default vocabulary, before and after a drift.

Sentences are drawn from a first-order Markov chain over words, so the last
word of a context carries everything there is to know about the next word:
the best any model can do is predict, for each last word, its most frequent
next word. Regime ``"B"`` is the same world after a drift: several frequent
word-to-next-word habits change and the opening words shift in frequency.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from typing import Sequence

import numpy as np

from .vocabulary import default_vocabulary

REGIMES = ("A", "B")
END = "<end>"
START = "<start>"
MAX_SENTENCE_WORDS = 12

# One rule per line: "word: next weight, next weight, ...". <end> finishes a sentence.
_REGIME_A = """
<start>: the 6, a 3, person 1
the: cat 10, dog 4, park 2, house 1, mat 1, big 2, small 1, red 1, tree 1, car 1, bird 1
a: dog 10, cat 2, bird 2, person 2, car 1, happy 1, friendly 1, clever 1, tall 1, brown 1, blue 1, green 1
big: dog 8, house 2, tree 1, car 1
small: cat 8, bird 2, car 1
red: car 8, bird 2, house 1
blue: car 8, bird 3, house 1
green: tree 8, car 2, park 1
brown: dog 8, bird 2, cat 1
tall: tree 8, person 3
happy: person 8, dog 2, cat 1
friendly: dog 8, person 3
clever: cat 8, bird 2, dog 1
cat: sat 8, jumped 2, climbed 1, ran 1
dog: ran 8, barked 3, played 2, sat 1
bird: flew 8, sat 1
person: walking 8, stood 2, stopped 2, drove 2
car: moved 8, stopped 3, <end> 1
tree: swayed 8, stood 1
sat: on 8, under 2, quickly 1
ran: quickly 8, fast 2, to 2, over 1, in 1
jumped: over 8, on 2
climbed: the 8, a 1, over 1
flew: over 8, to 2, fast 2, quickly 1
barked: quickly 4, <end> 4, in 1
played: in 8, on 1, quickly 1
stood: under 8, in 2, on 1
moved: slowly 8, fast 2, quickly 1
stopped: in 8, under 1, <end> 2
walking: in 8, to 2, slowly 2
drove: to 8, fast 2, slowly 2
swayed: slowly 8, <end> 2
quickly: <end> 4, to 4, in 1, over 1
slowly: <end> 4, to 4, in 1, over 1
fast: <end> 5, to 3, in 1
on: the 8, a 2
in: the 8, a 2
under: the 8, a 2
over: the 8, a 2
to: the 8, a 2
mat: <end> 1
park: <end> 1
house: <end> 1
"""

# Only the rules that change; the rest of regime B is regime A.
_REGIME_B_CHANGES = """
<start>: a 6, the 3, person 1
the: car 10, cat 3, dog 3, park 2, house 1, mat 1, big 1, small 1, red 1, tree 1, bird 1
a: bird 10, dog 3, cat 2, person 2, car 1, happy 1, friendly 1, clever 1, tall 1, brown 1, blue 1, green 1
cat: climbed 8, sat 2, jumped 2, ran 1
dog: barked 8, ran 2, played 2, sat 1
bird: sat 8, flew 3
person: drove 8, walking 2, stood 1, stopped 1
car: stopped 8, moved 2, <end> 1
sat: under 8, on 2, quickly 1
ran: to 8, quickly 2, fast 2, over 1
on: a 8, the 2
in: a 8, the 2
under: a 8, the 2
over: a 8, the 2
to: a 8, the 2
quickly: in 8, <end> 3, to 1
slowly: in 8, <end> 3, to 1
"""


def _parse_rules(text: str) -> dict[str, dict[str, float]]:
    rules: dict[str, dict[str, float]] = {}
    for line in text.strip().splitlines():
        word, _, rest = line.partition(":")
        choices = {}
        for item in rest.split(","):
            nxt, weight = item.split()
            choices[nxt] = float(weight)
        rules[word.strip()] = choices
    return rules


def _transition_tables() -> dict[str, dict[str, tuple[list[str], list[float]]]]:
    rules_a = _parse_rules(_REGIME_A)
    rules_b = {**rules_a, **_parse_rules(_REGIME_B_CHANGES)}
    real_words = set(default_vocabulary().words[1:])
    tables = {}
    for regime, rules in (("A", rules_a), ("B", rules_b)):
        table = {}
        for word, choices in rules.items():
            unknown = set(choices) - real_words - {END}
            if unknown or (word not in real_words and word != START):
                raise AssertionError(f"grammar rule {word!r} uses words outside the vocabulary: {unknown}")
            weights = np.array(list(choices.values()))
            probs = weights / weights.sum()
            # What Generator.choice(len(p), p=p) computes before its single uniform draw: with the
            # cumulative distribution stored, one rng.random() and a bisection give the same word, with
            # the same draws, about ten times faster (sentences are drawn one word at a time).
            cdf = probs.cumsum()
            cdf /= cdf[-1]
            table[word] = (list(choices), cdf.tolist())
        tables[regime] = table
    return tables


_TABLES = _transition_tables()


def check_regime(regime: str) -> str:
    """Return ``regime`` if it is one of ``REGIMES``; raise ``ValueError`` naming it otherwise."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}: expected one of {list(REGIMES)}")
    return regime


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int if it is a positive integer; raise a clear error otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}: {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return int(value)


def sample_sentence(rng: np.random.Generator, regime: str = "A") -> list[str]:
    """Draw one sentence (a list of at least two words) from the grammar of ``regime``."""
    return draw_sentence(rng.random, _TABLES[check_regime(regime)])


def draw_sentence(uniform, table: dict[str, tuple[list[str], list[float]]]) -> list[str]:
    """``sample_sentence`` with the draws taken from ``uniform()`` (one float in [0, 1) per word).

    With ``uniform = rng.random`` it is ``sample_sentence``; ``make_examples`` passes uniforms drawn in
    blocks, which are the same numbers (``rng.random(n)`` gives what ``n`` calls of ``rng.random()`` give).
    """
    while True:
        words: list[str] = []
        current = START
        while len(words) < MAX_SENTENCE_WORDS:
            choices, cdf = table[current]
            current = choices[bisect_right(cdf, uniform())]
            if current == END:
                break
            words.append(current)
        if len(words) >= 2:
            return words


def _block_uniforms(rng: np.random.Generator, block: int = 4096):
    """``rng.random`` for a caller that owns ``rng``: the same numbers in the same order, drawn ``block`` at a time.

    A scalar draw costs about as much as a thousand numbers of a block, and sentences take one per word.
    The generator ends further on than scalar draws would leave it: only for a caller that draws nothing after.
    """
    numbers = iter(())
    def uniform() -> float:
        nonlocal numbers
        for value in numbers:
            return value
        numbers = iter(rng.random(block).tolist())
        return next(numbers)
    return uniform


def sentence_examples(words: Sequence[str]) -> list[tuple[list[str], str]]:
    """Every ``(context, target)`` pair of one sentence: each prefix and the word after it.

    Taking every cut (not one cut per sentence) keeps the target distribution
    after each last word exactly the grammar's, whatever the sentence length.
    """
    return [(list(words[:cut]), words[cut]) for cut in range(1, len(words))]


def make_examples(n: int, seed: int = 0, regime: str = "A") -> list[tuple[list[str], str]]:
    """Draw ``n`` examples from the grammar.

    Sentences are drawn one after another and cut at every position, as if a
    user typed them word by word, until ``n`` examples are collected.

    Parameters
    ----------
    n : int
        Number of examples, at least 1.
    seed : int
        Seed of ``numpy.random.default_rng``; the same arguments give the same list.
    regime : {"A", "B"}
        ``"A"`` is the world the pretrained model learned; ``"B"`` is after the drift.

    Returns
    -------
    list of (list of str, str)
        ``(context, target)`` pairs; every context has at least one word and
        every word (target included) is a real word of ``default_vocabulary()``.
    """
    n = check_positive_int("n", n)
    check_regime(regime)
    uniform, table = _block_uniforms(np.random.default_rng(seed)), _TABLES[regime]
    examples: list[tuple[list[str], str]] = []
    while len(examples) < n:
        examples.extend(sentence_examples(draw_sentence(uniform, table)))
    return examples[:n]


def best_last_word_accuracy(examples: Sequence[tuple[Sequence[str], str]]) -> float:
    """Accuracy of the best possible last-word predictor on ``examples``.

    For each last context word, predicting its most frequent target in
    ``examples`` is the best any model that only looks at the last word can do
    on this sample. Returns a float in [0, 1]; raises ``ValueError`` when
    ``examples`` is empty or a context is empty.
    """
    if len(examples) == 0:
        raise ValueError("examples is empty: there is no accuracy to compute")
    targets_by_last: dict[str, Counter] = defaultdict(Counter)
    for context, target in examples:
        if len(context) == 0:
            raise ValueError("an example has an empty context: a last word is needed")
        targets_by_last[context[-1]][target] += 1
    best = sum(counts.most_common(1)[0][1] for counts in targets_by_last.values())
    return best / len(examples)
