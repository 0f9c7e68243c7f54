"""`make demo`: the instructor's tour of the course."""

from __future__ import annotations

import time

import numpy as np

import nextword as nw


def _accuracy(model: nw.NextWordModel, examples) -> float:
    words, targets = nw.encode_examples(examples, model.vocab)
    return float(np.mean(model.predict_proba(words).argmax(axis=1) == targets))


def show_model_story() -> None:
    """Train the pretrained model, then show its accuracy before and after the drift and after retraining."""
    start = time.perf_counter()
    model = nw.pretrained_model()
    seconds = time.perf_counter() - start
    fresh_a = nw.make_examples(20_000, seed=101, regime="A")
    fresh_b = nw.make_examples(20_000, seed=102, regime="B")
    retrained = model.copy()
    retrained.fit(nw.make_examples(3000, seed=7, regime="B"), epochs=20, lr=0.1, seed=0)
    print(f"pretrained_model() trained in {seconds:.2f} s")
    print(f"{'':32}{'regime A':>10}{'regime B':>10}")
    print(f"{'best last-word predictor':32}{nw.best_last_word_accuracy(fresh_a):>10.3f}{nw.best_last_word_accuracy(fresh_b):>10.3f}")
    print(f"{'pretrained model':32}{_accuracy(model, fresh_a):>10.3f}{_accuracy(model, fresh_b):>10.3f}")
    print(f"{'retrained on regime B':32}{_accuracy(retrained, fresh_a):>10.3f}{_accuracy(retrained, fresh_b):>10.3f}")


def main() -> None:
    print("== The model and its drift ==")
    show_model_story()


if __name__ == "__main__":
    main()
