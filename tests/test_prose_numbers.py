"""Every number the notebooks' prose quotes as a result of their own computation equals what they compute.

A notebook's text says "You should see an accuracy of about 0.6" or "the pretrained model is already at
0.052"; the code then prints (or holds) the number. When the code, the data or ``nextword`` changes,
the printed number moves and the sentence silently becomes false. Each quoted number is listed below
as a ``Claim``: the notebook, a snippet of its markdown with the number in ``[[double brackets]]``, and where the
notebook's own value comes from (a regular expression over what the executed notebook printed, or an
expression evaluated in its kernel once every cell has run). The quoted number must equal the value
rounded to the digits quoted ("about 0.86" holds for 0.8635, not for 0.8735), unless the claim is a
bound ("under 0.3") or names a tolerance and says why (an expectation from theory, such as alpha, checked
against a simulation).

Each reference notebook is executed once, in a fresh kernel, for all its claims. When a check fails,
either the prose is stale (change the number in ``authoring/<a>/<a>.py``, then sync and generate) or the
code changed a result that the text relies on. When you reword a sentence that quotes a number, update
its snippet here: a snippet that is no longer in the markdown fails too, so a claim cannot quietly stop
being checked. Numbers the notebook does not compute (inputs, configuration, hand-worked model answers
of a written question) are not claims.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from course_tools import course
from course_tools.publish.reader_edition import kernel_environment
from nextword.studies import NOT_RUN, RUN_STUDIES
from support.studies import study_cells

ROOT = Path(__file__).resolve().parents[1]
NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
NUMBER = r"[-−+]?(?:\d[\d ]*\.?\d*(?:e[-+]?\d+)?|\.\d+)"
SNIPPET = re.compile(r"\[\[(.+?)\]\]")
RESULTS_MARK = "PROSE-NUMBERS-RESULTS "


@dataclass(frozen=True)
class Claim:
    """One number quoted in a notebook's markdown, and where the notebook computes it.

    ``prose``: words of one markdown cell around the number (whitespace-insensitive), the number in
    ``[[double brackets]]``: digits (``0.052``, ``1e-4``, ``2 000``) or a small number word (``six``).
    ``output``: a regular expression whose first group captures the value in the executed notebook's
    printed output (the first match over all cells, in order), preferred because it is what a reader
    sees; or ``expr``: a Python expression evaluated in the kernel after the last cell (with ``math`` and
    every ``nextword`` name available), for a number the notebook only draws or keeps in a variable.
    ``convert`` turns the value into the quoted quantity (a share into a percentage, ...; a regular
    expression with several groups hands it all of them). ``relation``: ``"="`` (equal when rounded to the quoted digits),
    or ``"<"``, ``"<="``, ``">"``, ``">="`` for a bound. ``tolerance`` replaces rounding for a quoted
    expectation that a simulation only approximates; ``why`` says why.
    """

    notebook: str
    prose: str
    output: str | None = None
    expr: str | None = None
    convert: Callable[..., float] | None = None
    relation: str = "="
    tolerance: float | None = None
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.notebook[:2]}: {normalized(self.prose)[:60]}"


def percent(share: float) -> float:
    return 100 * share


N01, N02, N03 = course.load(ROOT).names
CLAIMS = [
    # ---- 01: evaluation, calibration, slices, and the model answer that quotes them
    Claim(N01, "You should see two numbers within [[0.05]]", expr="abs(initial_loss - math.log(len(VOCAB)))", relation="<"),
    Claim(N01, "pretrained model well under `[[1e-4]]`", output=r"pretrained model: +(\d\.\d+e[-+]\d+)", relation="<"),
    Claim(N01, "You should see `[[0.45]]` for the worked example", expr="expected_calibration_error([0.95, 0.95], [True, False])"),
    Claim(N01, "You should see [[7]] passed, 1 failed and 2 errors", output=r"\{'passed': (\d+), 'failed': \d+, 'errors': \d+\}"),
    Claim(N01, "You should see 7 passed, [[1]] failed and 2 errors", output=r"\{'passed': \d+, 'failed': (\d+), 'errors': \d+\}"),
    Claim(N01, "You should see 7 passed, 1 failed and [[2]] errors", output=r"\{'passed': \d+, 'failed': \d+, 'errors': (\d+)\}"),
    Claim(N01, "You should see [[0]] passed and 0 failed for both", output=r"always raises +\{'passed': (\d+)"),
    Claim(N01, "You should see 0 passed and [[0]] failed for both", output=r"NaN weights +\{'passed': \d+, 'failed': (\d+)"),
    Claim(N01, "You should see the [[3]] INV cases pass and every MFT", output=r"all-zero weights: \{'passed': (\d+)"),
    Claim(N01, "You should see an accuracy of about [[0.6]], close to the best", output=r"\{'n': 2000, 'accuracy': ([\d.]+)"),
    Claim(N01, "a top-3 accuracy of about [[0.86]], and a mean confidence", output=r"'top_k_accuracy': ([\d.]+)"),
    Claim(N01, "bars roughly along the diagonal for A (ECE about [[0.05]])", expr="expected_calibration_error(conf_a, correct_a)"),
    Claim(N01, "an ECE about [[six]] times larger for B", expr="expected_calibration_error(conf_b, correct_b) "
                                                            "/ expected_calibration_error(conf_a, correct_a)"),
    Claim(N01, "perfectly calibrated model score about [[0.05]] on 300 labels", output=r"perfectly calibrated model: ([\d.]+)"),
    Claim(N01, "the pretrained model about [[0.07]] with 5% of windows", output=r"pretrained model, regime A: ([\d.]+)"),
    Claim(N01, "with 5% of windows above about [[0.1]], and the drifted", output=r"regime A: [\d.]+, ([\d.]+)"),
    Claim(N01, "(its [[12]] hidden units are shared by all 43 words)", expr="pretrained_model(seed=0).hidden_size"),
    Claim(N01, "(its 12 hidden units are shared by all [[43]] words)", expr="len(default_vocabulary())"),
    Claim(N01, "is right only about [[62]]% of the time on regime A",
          output=r"best possible last-word accuracy on the same examples: ([\d.]+)", convert=percent),
    Claim(N01, "(here [[0.618]] against 0.624)", output=r"\{'n': 2000, 'accuracy': ([\d.]+)"),
    Claim(N01, "(here 0.618 against [[0.624]])", output=r"best possible last-word accuracy on the same examples: ([\d.]+)"),
    Claim(N01, "not the raw [[0.6]]. For a keyboard", output=r"\{'n': 2000, 'accuracy': ([\d.]+)"),
    Claim(N01, "**top-3 accuracy** (about [[0.86]])", output=r"'top_k_accuracy': ([\d.]+)"),
    Claim(N01, "ECE is about [[0.05]] on A but about 0.3 on regime B", expr="expected_calibration_error(conf_a, correct_a)"),
    Claim(N01, "ECE is about 0.05 on A but about [[0.3]] on regime B", expr="expected_calibration_error(conf_b, correct_b)"),
    Claim(N01, "accuracy near [[0.04]]) and the adjective slice", output=r"typo in the last word +\d+ +([\d.]+)"),
    Claim(N01, "the adjective slice (about [[0.54]] against a ceiling", output=r"adjective +\d+ +([\d.]+)"),
    Claim(N01, "against a ceiling of [[0.66]])", output=r"adjective +\d+ +[\d.]+ +[\d.]+ +([\d.]+)"),
    Claim(N01, "already at [[0.052]] on 2000 held-out examples", expr="expected_calibration_error(conf_a, correct_a)"),
    Claim(N01, "calibrated model scores about [[0.05]] on 300 labels", output=r"perfectly calibrated model: ([\d.]+)"),
    Claim(N01, "the baseline averages about [[0.07]] and stays", output=r"pretrained model, regime A: ([\d.]+)"),
    Claim(N01, "stays below about [[0.1]] in 95% of windows", output=r"regime A: [\d.]+, ([\d.]+)"),
    Claim(N01, "while after the drift it is about [[0.3]]", output=r"pretrained model, regime B: ([\d.]+)"),
    Claim(N01, "a threshold near [[0.1]] for 300-label windows", expr="worry_threshold"),
    # ---- 02: noise, tests, latency, drift, the monitor
    Claim(N02, "For `p = 0.62` and `n = 10` that is **[[0.15]]**",
          output=r"samples of n=10: .*standard deviation of the measured accuracy ([\d.]+)"),
    Claim(N02, "For 5 correct out of 10 you should see about `([[0.237]], 0.763)`", output=r"5 / 10 +-> \(([\d.]+)"),
    Claim(N02, "you should see about `(0.237, [[0.763]])`", output=r"5 / 10 +-> \([\d.]+, ([\d.]+)\)"),
    Claim(N02, "the interval shrinks to about `([[0.469]], 0.531)`", output=r"500 / 1000 +-> \(([\d.]+)"),
    Claim(N02, "the interval shrinks to about `(0.469, [[0.531]])`", output=r"500 / 1000 +-> \([\d.]+, ([\d.]+)\)"),
    Claim(N02, "upper bound about `[[0.278]]`", output=r" 0 / 10 +-> \([\d.]+, ([\d.]+)\)"),
    Claim(N02, "how often chance alone looks \"15 points worse\": about one 10-example sample in [[eight]]",
          output=r"samples of n=10: ([\d.]+)% look 15 points worse", convert=lambda share: 100 / share),
    Claim(N02, "gives `z ≈ [[-2.13]]` and a one-sided", output=r"62/100 vs 47/100 \(less\): z = ([-\d.]+)"),
    Claim(N02, "one-sided p-value of about `[[0.017]]`", output=r"62/100 vs 47/100 \(less\): z = [-\d.]+, p = ([\d.]+)"),
    Claim(N02, "gives `z ≈ [[-0.76]]` and `p ≈ 0.22`", output=r"617/1000 vs 5/10 \(less\): z = ([-\d.]+)"),
    Claim(N02, "gives `z ≈ -0.76` and `p ≈ [[0.22]]`", output=r"617/1000 vs 5/10: z-test p ([\d.]+)"),
    Claim(N02, "gives a one-sided p-value of about `[[0.33]]`", output=r"Fisher's exact p ([\d.]+)"),
    Claim(N02, "one request in eleven now takes about [[200]] ms", output=r"new version : mean +[\d.]+ ms +p95 +([\d.]+)"),
    Claim(N02, "`[50, 50]` against `[80, 20]` gives about `[[0.416]]`", output=r"PSI\(\[50, 50\], \[80, 20\]\) = ([\d.]+)"),
    Claim(N02, "Expect PSI around 0.05 – [[0.1]] before the drift", output=r"max PSI before the drift: ([\d.]+)", relation="<="),
    Claim(N02, "well above [[0.25]] once the live window", output=r"PSI at the end: ([\d.]+)", relation=">"),
    Claim(N02, "`mean_confidence` [[0.55]], `p95_latency_ms` 38.5", output=r"'n': 4, .*'mean_confidence': ([\d.]+)"),
    Claim(N02, "`p95_latency_ms` [[38.5]] (linear", output=r"'n': 4, .*'p95_latency_ms': ([\d.]+)"),
    Claim(N02, "`error_rate` [[0.25]] and `status`", output=r"'n': 4, .*'error_rate': ([\d.]+)"),
    Claim(N02, "lowers measured accuracy by about `0.1 · (accuracy − 1/42)` ≈ [[6]] points",
          output=r"offline baseline \(2000 clean examples\): accuracy ([\d.]+)",
          convert=lambda accuracy: 100 * 0.1 * (accuracy - 1 / 42)),
    Claim(N02, "one `errors` alert about [[90]] s into the outage", output=r"\((\d+), 'errors'\)",
          convert=lambda t: t - 600),
    Claim(N02, "(z ≈ -0.76, p ≈ [[0.22]] for 5/10 against 617/1000)", output=r"617/1000 vs 5/10: z-test p ([\d.]+)"),
    Claim(N02, "on 10 examples that error bar is ±[[0.3]]",
          output=r"samples of n=10: .*standard deviation of the measured accuracy ([\d.]+)",
          convert=lambda sd: 1.96 * sd),
    # 02's monitor scored over 20 streams: rates per 24 h of monitored drift-free time, detections on post-drift evidence
    Claim(N02, "(about [[20]] minutes per stream, after the 600 baseline labels)",
          output=r"reference policy over 20 streams: .* in ([\d.]+) h of drift-free monitoring", convert=lambda h: h * 60 / 20),
    Claim(N02, "about [[4]] false accuracy pages per 24 hours is the price",
          output=r"reference policy over 20 streams: .* = ([\d.]+) per 24 h"),
    Claim(N02, "Expect more than [[50]] false accuracy pages per 24 h with the offline baseline",
          output=r"offline \(clean test set\) : .* = ([\d.]+) per 24 h", relation=">"),
    Claim(N02, "the 20 streams hold less than [[7]] drift-free hours",
          output=r"reference policy over 20 streams: .* in ([\d.]+) h of drift-free monitoring", relation="<"),
    # 02's Going further: a sequential boundary, CUSUM, and drift on this stream
    Claim(N02, "Expect about [[5]]% false positives with one look at the end",
          output=r"one look at the end \(\|z\| > 1\.96\): ([\d.]+)%", tolerance=1.5,
          why="alpha from theory; 4000 simulated A/A tests carry about ±0.7 points of noise"),
    Claim(N02, "about [[32]]% when peeking at all 50 looks with 1.96", output=r"peeking at all 50 looks with 1\.96: ([\d.]+)%"),
    Claim(N02, "and about [[5]]% again with Pocock's boundary", output=r"all 50 looks with Pocock's c: ([\d.]+)%",
          tolerance=1.5, why="alpha by construction; 4000 simulated A/A tests carry about ±0.7 points of noise"),
    Claim(N02, "which is about [[2.8]] instead of 1.96", output=r"Pocock's constant for 50 looks at alpha 0\.05: c = ([\d.]+)"),
    Claim(N02, "With only about [[7]] hours of drift-free time in these streams",
          output=r"reference policy over 20 streams: .* in ([\d.]+) h of drift-free monitoring"),
    Claim(N02, "a single false alarm is about [[3.6]] per 24 h",
          output=r"reference policy over 20 streams: .*; (\d+) false alarm\(s\) in .* = ([\d.]+) per 24 h",
          convert=lambda count, rate: rate / count),
    Claim(N02, "an input PSI of about [[0.81]] and a label PSI", output=r"regime A -> B: input PSI ([\d.]+)"),
    Claim(N02, "and a label PSI of about [[0.89]].", output=r"regime A -> B: .*label PSI ([\d.]+)"),
    Claim(N02, "Here it moves too (PSI about [[0.47]])", output=r"regime A -> B: .*prediction PSI ([\d.]+)"),
    Claim(N02, "(expect about [[0.62]] → 0.51 true", output=r"regime A +: true accuracy ([\d.]+)"),
    Claim(N02, "(expect about 0.62 → [[0.51]] true", output=r"covariate-only shift : true accuracy ([\d.]+)"),
    Claim(N02, "true, [[0.59]] → 0.46 estimated", output=r"regime A +: .*CBPE estimate \(mean confidence\) ([\d.]+)"),
    Claim(N02, "true, 0.59 → [[0.46]] estimated", output=r"covariate-only shift : .*CBPE estimate \(mean confidence\) ([\d.]+)"),
    Claim(N02, "The estimate stays near [[0.6]] while", output=r"concept drift \(B\) +: .*CBPE estimate \(mean confidence\) ([\d.]+)"),
    # ---- 03: buffer, gate, A/B tests, capstone
    Claim(N03, "a buffer of length [[2]], and a training set of 4", output=r"len: (\d+)"),
    Claim(N03, "`p = 2 / 2^6 = [[0.031]]`", output=r"b=6, c=0, p=([\d.]+)"),
    Claim(N03, "`p = 2·(1 + 6)/64 = [[0.219]]`", output=r"b=5, c=1, p=([\d.]+)"),
    Claim(N03, "Expect `b=6, c=0, p=[[0.031]]`", output=r"b=6, c=0, p=([\d.]+)"),
    Claim(N03, "then `b=5, c=1, p=[[0.219]]`", output=r"b=5, c=1, p=([\d.]+)"),
    Claim(N03, "a challenger that is truly 3 points worse looks no worse than the champion about [[15]]% of the time",
          output=r"\n0\.03 +([\d.]+)", convert=percent),
    Claim(N03, "truly 3 points worse about [[15]]% of the time and the new gate", output=r"\n0\.03 +([\d.]+)", convert=percent),
    Claim(N03, "and the new gate about [[2]]%", output=r"\n0\.03 +[\d.]+ +([\d.]+)", convert=percent),
    Claim(N03, "exactly the margin is promoted at most about alpha = [[5]]%", output=r"\n0\.02 +[\d.]+ +([\d.]+)",
          convert=percent, tolerance=1.5,
          why="alpha from theory; Tango's score bound is close to nominal on 200 examples and 600 simulated gates "
              "carry about ±1 point of noise"),
    Claim(N03, "the score bound is [[0.013]], because 200 agreements", output=r"no disagreement on 200, margin 0\.01 +0 +0 +200 "
                                                                        r"+[-+\d.]+ +[\d.]+ +\+([\d.]+)"),
    Claim(N03, "`z² / (n + z²)`, [[0.013]] on 200 examples", expr="paired_upper_bound(0, 0, 200, 0.05)"),
    Claim(N03, "a truly *equal* challenger is promoted only about [[16]]%", output=r"\n0\.00 +[\d.]+ +([\d.]+)",
          convert=percent),
    Claim(N03, "(For `p_baseline = 0.5, mde = 0.1` you should get [[388]].)", expr="required_sample_size(0.5, 0.1)"),
    Claim(N03, "Expect about [[5]] % false positives with one look", output=r" 1 looks: false-positive rate ([\d.]+)",
          convert=percent, tolerance=1.5, why="alpha from theory; 2000 simulated A/A tests carry about ±1 point of noise"),
    Claim(N03, "It costs almost nothing on clean streams ([[0.598]] for naive", output=r"\n0% +([\d.]+) \("),
    Claim(N03, "(0.598 for naive, [[0.597]] held-out)", output=r"\n0% +[\d.]+ \([\d.]+ prom\.\) +([\d.]+) \("),
    Claim(N03, "noisy training labels ([[0.591]] against 0.582)", output=r"\n20% +([\d.]+) \("),
    Claim(N03, "noisy training labels (0.591 against [[0.582]])", output=r"\n20% +[\d.]+ \([\d.]+ prom\.\) +([\d.]+) \("),
    Claim(N03, "it changed the number of promotions on only [[1]] seed of 10",
          output=r"where the bound changed the number of promotions: (\d+)"),
    Claim(N03, "a few tenths of a point more ([[0.595]] clean", output=r"\n0% +(?:[\d.]+ \([\d.]+ prom\.\) +){2}([\d.]+) \("),
    Claim(N03, "(0.595 clean, [[0.579]] noisy)", output=r"\n20% +(?:[\d.]+ \([\d.]+ prom\.\) +){2}([\d.]+) \("),
    Claim(N03, "streams, it refused [[8]] challengers that `c ≥ b` would have promoted",
          output=r"would promote \(20 streams, after the drift\): (\d+)"),
    Claim(N03, "and [[7]] of the 8 were truly *better*", output=r"truly better on fresh regime-B data: (\d+)"),
    Claim(N03, "(the other was [[2.7]] points worse)", output=r"worst true loss ([\d.]+)", convert=percent),
    Claim(N03, "then serves [[0.456]] on the last 1000 requests", output=r"per-champion baseline ([\d.]+)"),
    Claim(N03, "on the last 1000 requests instead of [[0.595]], under 0.35", output=r"SLO baseline ([\d.]+)"),
    Claim(N03, "under 0.35 on [[4]] seeds", output=r"under 0\.35 on (\d+) seeds"),
    Claim(N03, "([[-0.020]] by request id", output=r"split by request id ([-+\d.]+)"),
    Claim(N03, "-0.020 by request id, [[-0.010]] by sentence", output=r"split by sentence ([-+\d.]+)"),
    Claim(N03, "no alarm on a clean stream ([[0]] of 10)", output=r"alarms on 10 clean streams: (\d+)"),
    Claim(N03, "every data-bug stream [[119]] to 190 s after", output=r"on 10 data-bug streams: 10, (\d+) to"),
    Claim(N03, "every data-bug stream 119 to [[190]] s after", output=r"on 10 data-bug streams: 10, \d+ to (\d+) s"),
    Claim(N03, "and [[23]] of the 25 promotions of a", output=r"of which after the alarm: (\d+)"),
    Claim(N03, "and 23 of the [[25]] promotions of a", output=r"after the bug started: (\d+), of which"),
    Claim(N03, "then about [[350]] s later", tolerance=10, why="one drill, one seed: the check ends with its 150th label",
          output=r"drill t= *([\d.]+) +promote +v(\d+) +\(the gate said: significantly worse\)\n"
                                                 r" +drill t= *([\d.]+) +rollback",
          convert=lambda promoted, version, rolled: float(rolled) - float(promoted)),
    Claim(N03, "model to fall from about [[0.6]] to under 0.3", output=r"never: accuracy before the drift ([\d.]+)"),
    Claim(N03, "model to fall from about 0.6 to under [[0.3]]", output=r"never: accuracy before the drift [\d.]+, last 1000 "
                                                                 r"requests ([\d.]+)", relation="<"),
]


# ---------------------------------------------------------------- reading numbers


def parse_number(text: str) -> tuple[float, float]:
    """The value of a quoted number and the unit of its last quoted digit (``0.052`` -> (0.052, 0.001))."""
    text = text.strip().replace("−", "-").replace(" ", "").replace(",", "")
    if text.lower() in NUMBER_WORDS:
        return float(NUMBER_WORDS[text.lower()]), 1.0
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return float(text), 10.0 ** (int(exponent or 0) - decimals)


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def markdown_text(nb) -> str:
    return "\n\n".join(normalized(cell.source) for cell in nb.cells if cell.cell_type == "markdown")


def printed_text(nb) -> str:
    """Everything the executed notebook printed (stdout and plain-text results), cell after cell."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                parts.append(output.get("text", ""))
            elif output.get("output_type") in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", "") + "\n")
    return "".join(parts)


def quoted(claim: Claim, markdown: str) -> str | None:
    """The number as the markdown quotes it now, or None when the snippet is no longer there."""
    literal = normalized(claim.prose)
    first = SNIPPET.search(literal)
    before, after = literal[:first.start()], literal[first.end():]
    word = first.group(1).lower() in NUMBER_WORDS
    pattern = re.escape(before) + "(" + ("|".join(NUMBER_WORDS) if word else NUMBER) + ")" + re.escape(after)
    match = re.search(pattern, markdown)
    return match.group(1) if match else None


def computed(claim: Claim, printed: str, values: dict) -> float:
    if claim.output is not None:
        match = re.search(claim.output, printed)
        if match is None:
            raise LookupError(f"the notebook printed nothing matching {claim.output!r}")
        captured = [float(group) for group in match.groups()]
        return claim.convert(*captured) if claim.convert else captured[0]
    else:
        result = values.get(claim.expr)
        if not isinstance(result, (int, float)):
            raise LookupError(f"{claim.expr!r} could not be evaluated after the last cell: {result}")
        value = float(result)
    return claim.convert(value) if claim.convert else value


def problem(claim: Claim, markdown: str, printed: str, values: dict) -> str | None:
    """Why ``claim`` does not hold for this markdown and these results, or None when it holds."""
    text = quoted(claim, markdown)
    if text is None:
        return (f"{claim.notebook}: the markdown no longer contains {claim.prose!r} (the number in [[double brackets]]); "
                "update the snippet in tests/test_prose_numbers.py")
    number, unit = parse_number(text)
    try:
        value = computed(claim, printed, values)
    except LookupError as exc:
        return f"{claim.notebook}: {exc}"
    slack = 1e-9 * max(1.0, abs(value))
    holds = {
        "=": abs(value - number) <= (claim.tolerance if claim.tolerance is not None else unit / 2) + slack,
        "<": value < number, "<=": value <= number + slack, ">": value > number, ">=": value >= number - slack,
    }[claim.relation]
    if holds:
        return None
    rule = (f"within {claim.tolerance} ({claim.why})" if claim.tolerance is not None
            else "rounded to the quoted digits" if claim.relation == "=" else f"{claim.relation} the quoted number")
    return (f"{claim.notebook}: the prose quotes {text} in {claim.prose!r}, but the notebook computes {value:.6g} "
            f"(it must be {rule}): change the prose to the executed value, or find out why the result moved")


# ---------------------------------------------------------------- executing the notebooks once


# Each notebook runs in well under a minute; twice a whole run waited about 300 s in one of them, with the kernel
# idle, and passed. A run that slow says where its time went (pytest's warnings summary) instead of only its length.
SLOW_RUN_SECONDS = 60


def where_the_time_went(nb) -> str:
    """The five cells with the longest time from the request to the kernel's idle status (nbclient's timestamps),
    each with its time in the kernel (busy to execute reply) and the wait for its outputs (reply to idle)."""
    from datetime import datetime

    def at(cell, name):
        stamp = cell.metadata.get("execution", {}).get(name)
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None

    spans = []
    for index, cell in enumerate(nb.cells):
        busy, reply, idle = (at(cell, name) for name in ("iopub.status.busy", "shell.execute_reply", "iopub.status.idle"))
        if busy is not None and idle is not None:
            kernel = f"{reply - busy:.1f}" if reply is not None else "?"
            waited = f"{idle - reply:.1f}" if reply is not None else "?"
            first = cell.source.strip().splitlines()[0][:50] if cell.source.strip() else ""
            spans.append((idle - busy, f"cell {index} {first!r}: {idle - busy:.1f} s (kernel {kernel} s, outputs {waited} s)"))
    timed = sum(span for span, _ in spans)
    return f"{timed:.0f} s inside cells; " + "; ".join(text for _, text in sorted(spans, reverse=True)[:5])


def execute_with_expressions(assignment: str) -> tuple[object, dict]:
    """Run the reference notebook top to bottom in a fresh kernel; evaluate the claims' expressions after it."""
    from nbclient import NotebookClient

    path = ROOT / "source" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    expressions = sorted({c.expr for c in CLAIMS if c.notebook == assignment and c.expr})
    probe = ("def _prose_numbers_probe(expressions):\n"
             "    import json, math, nextword\n"
             "    found = {}\n"
             "    for expression in expressions:\n"
             "        try:\n"
             "            found[expression] = float(eval(expression, {**vars(nextword), **globals(), 'math': math}))\n"
             "        except Exception as exc:\n"
             "            found[expression] = f'{type(exc).__name__}: {exc}'\n"
             f"    print({RESULTS_MARK!r} + json.dumps(found))\n"
             f"_prose_numbers_probe({expressions!r})\n")
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    # The numbers do not depend on drawing (Agg skips encoding every figure); the studies behind a button run, so
    # every number they print is checked too.
    started = time.monotonic()
    # A reply the client's event loop was not woken for is only read when its wait times out: three full runs here
    # spent 300 s (the old timeout) with the kernel idle and 5 s inside cells. 60 s is the price of one such miss;
    # the longest cell, a study of 03, takes 6 s.
    with kernel_environment(MPLBACKEND="Agg", **{RUN_STUDIES: "1"}):
        NotebookClient(nb, timeout=60, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute(stderr=subprocess.DEVNULL)
    if time.monotonic() - started > SLOW_RUN_SECONDS:
        warnings.warn(f"{assignment} took {time.monotonic() - started:.0f} s in its kernel: {where_the_time_went(nb)}")
    probe_cell = nb.cells.pop()
    text = "".join(o.get("text", "") for o in probe_cell.outputs if o.get("output_type") == "stream")
    values = json.loads(text.split(RESULTS_MARK, 1)[1]) if RESULTS_MARK in text else {}
    return nb, values


@pytest.fixture(scope="module")
def executed():
    """assignment -> (executed notebook, values of the claims' expressions); each notebook runs once."""
    cache: dict[str, tuple[object, dict]] = {}

    def get(assignment: str):
        if assignment not in cache:
            cache[assignment] = execute_with_expressions(assignment)
        return cache[assignment]

    return get


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_quoted_number_equals_the_executed_result(claim, executed):
    nb, values = executed(claim.notebook)
    assert problem(claim, markdown_text(nb), printed_text(nb), values) is None, \
        problem(claim, markdown_text(nb), printed_text(nb), values)


def wrong_number(claim: Claim, text: str, value: float) -> str:
    """A number in the quoted style that the claim must reject: one quoted unit away from the truth."""
    number, unit = parse_number(text)
    if text.strip().lower() in NUMBER_WORDS:
        return next(w for w, n in NUMBER_WORDS.items() if n == number + 1)
    if claim.relation in ("<", "<="):
        wrong = math.floor(value / unit) * unit - (unit if claim.relation == "<=" else 0)
    elif claim.relation in (">", ">="):
        wrong = math.ceil(value / unit) * unit + (unit if claim.relation == ">=" else 0)
    else:
        wrong = number + max(unit, 2 * (claim.tolerance or 0))
    decimals = max(0, -round(math.log10(unit)))
    return f"{wrong:.{decimals}f}" if "e" not in text.lower() else f"{wrong:.0e}"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_a_wrong_quoted_number_is_caught(claim, executed):
    """Edit the quoted number in a copy of the notebook's markdown: the claim must then fail."""
    nb, values = executed(claim.notebook)
    markdown, printed = markdown_text(nb), printed_text(nb)
    text = quoted(claim, markdown)
    assert text is not None, problem(claim, markdown, printed, values)
    wrong = wrong_number(claim, text, computed(claim, printed, values))
    doctored = copy.deepcopy(nb)
    literal = normalized(claim.prose)
    first = SNIPPET.search(literal)
    right_sentence = literal[:first.start()] + text + literal[first.end():]
    edited = 0
    for cell in doctored.cells:
        if cell.cell_type == "markdown" and right_sentence in normalized(cell.source):
            cell.source = normalized(cell.source).replace(right_sentence,
                                                          literal[:first.start()] + wrong + literal[first.end():])
            edited += 1
    assert edited >= 1, f"could not find {right_sentence!r} in one markdown cell"
    found = problem(claim, markdown_text(doctored), printed, values)
    assert found is not None and f"quotes {wrong}" in found, (claim.prose, text, wrong, found)


def test_a_reworded_sentence_is_reported_not_skipped(executed):
    nb, values = executed(N02)
    claim = Claim(N02, "the alert comes [[160]] s after the drift", output=r"detection delay (\d+) s")
    found = problem(claim, markdown_text(nb), printed_text(nb), values)
    assert found is not None and "no longer contains" in found, found


def test_every_claim_names_a_source_and_a_bracketed_number():
    for claim in CLAIMS:
        assert (claim.output is None) != (claim.expr is None), claim
        assert SNIPPET.search(claim.prose), claim
        assert claim.relation in ("=", "<", "<=", ">", ">="), claim
        assert claim.tolerance is None or claim.why, f"a tolerance needs a reason: {claim}"
    assert len({(c.notebook, c.prose) for c in CLAIMS}) == len(CLAIMS), "a claim is listed twice"


STUDY_NOTEBOOKS = [name for name in course.load(ROOT).names
                   if study_cells(nbformat.read(str(ROOT / "source" / name / f"{name}.ipynb"), as_version=4))]


@pytest.mark.parametrize("assignment", STUDY_NOTEBOOKS)
def test_every_study_runs_here_so_its_numbers_are_checked(assignment, executed):
    """The *Going further* studies a student runs with a button run at once here (COURSE_RUN_STUDIES=1): each study
    cell prints ``Study: <what it measures>`` and then the study's own output, never the offer of a button, so the
    numbers the prose quotes from a study are checked above by running it."""
    nb, _ = executed(assignment)
    for index, measures in study_cells(nb):
        outputs = nb.cells[index].get("outputs", [])
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        assert text.startswith(f"Study: {measures}\n"), f"cell {index}: {text[:200]!r}"
        assert text[len(f"Study: {measures}\n"):].strip(), f"cell {index}: the study printed nothing"
        assert NOT_RUN not in text and not any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                                               for o in outputs), f"cell {index} offered its study instead of running it"
