"""Figures for the helper library: pretrained training and loading time, and the quality bars.

    .venv/bin/python benchmarks/nextword_model.py

Prints figures; asserts nothing (the bars themselves are checked in tests/test_nextword.py).
"""

import statistics
import time

import numpy as np

import nextword as nw
from nextword.pretrained import _pretrained_params, train_pretrained_params


def accuracy(model, examples):
    words, targets = nw.encode_examples(examples, model.vocab)
    return float(np.mean(model.predict_proba(words).argmax(axis=1) == targets))


def main() -> None:
    timings = []
    for seed in range(5):
        start = time.perf_counter()
        train_pretrained_params(seed)
        timings.append(time.perf_counter() - start)
    print(f"pretrained training from scratch, 5 seeds: median {statistics.median(timings):.3f} s, max {max(timings):.3f} s")
    _pretrained_params.cache_clear()
    start = time.perf_counter()
    nw.pretrained_model(0)
    print(f"pretrained_model(0) cold, from the shipped weights: {time.perf_counter() - start:.4f} s")
    fresh_a = nw.make_examples(20_000, seed=101, regime="A")
    fresh_b = nw.make_examples(20_000, seed=102, regime="B")
    best_a, best_b = nw.best_last_word_accuracy(fresh_a), nw.best_last_word_accuracy(fresh_b)
    print(f"best last-word accuracy: regime A {best_a:.3f}, regime B {best_b:.3f}")
    print(f"{'seed':>4} {'acc A':>7} {'acc B':>7} {'B after retrain':>16} {'A after retrain':>16}")
    for seed in range(3):
        model = nw.pretrained_model(seed)
        retrained = model.copy()
        retrained.fit(nw.make_examples(3000, seed=77 + seed, regime="B"), epochs=20, lr=0.1, seed=seed)
        print(f"{seed:>4} {accuracy(model, fresh_a):>7.3f} {accuracy(model, fresh_b):>7.3f} "
              f"{accuracy(retrained, fresh_b):>16.3f} {accuracy(retrained, fresh_a):>16.3f}")


if __name__ == "__main__":
    main()
