"""Wrong implementations of the graded names of assignment 2 (02_monitoring); every one must lose points.

``MUTANTS[graded_name][mutant_name]`` is source code that replaces the solution cell ``graded_name`` of
``source/02_monitoring/02_monitoring.ipynb`` (a class mutant defines the class). Each plausible mistake
(off-by-one, missing edge case, wrong formula variant, forgotten reset, shared state, ...) is the reference
solution with that one mistake edited in (``Reference.edit`` fails loudly if the reference no longer holds
the text it edits). Each graded name also has the two shared cheats of ``cheats.py``.
"""

from textwrap import dedent

from reference import Reference

from cheats import always_equal, patched_comparisons  # noqa: E402 (tests/mutants is on sys.path when a corpus loads)

REFERENCE = Reference("02_monitoring")
edit = REFERENCE.edit


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


_WILSON_CHECK = '    if n < 0 or k < 0 or k > n:\n        raise ValueError(f"need 0 <= k <= n, got k={k!r}, n={n!r}")\n'
_WILSON_EMPTY = "    if n == 0:\n        return (0.0, 1.0)\n"
_WILSON_RETURN = "return (float(max(0.0, centre - half_width)), float(min(1.0, centre + half_width)))"
_WALD = edit("wilson_interval", (
    "    denominator = 1.0 + z * z / n\n"
    "    centre = (p_hat + z * z / (2.0 * n)) / denominator\n"
    "    half_width = z / denominator * math.sqrt(p_hat * (1.0 - p_hat) / n + z * z / (4.0 * n * n))\n",
    "    centre = p_hat\n    half_width = z * math.sqrt(p_hat * (1.0 - p_hat) / n)\n"))

WILSON = {
    "wald_interval": _WALD,
    "no_z2_over_4n2_term": edit("wilson_interval", (" + z * z / (4.0 * n * n))", ")")),
    "no_denominator": edit("wilson_interval", ("denominator = 1.0 + z * z / n", "denominator = 1.0")),
    "hardcoded_z": edit("wilson_interval", ("    p_hat = k / n\n", "    p_hat = k / n\n    z = 1.96\n")),
    "n_zero_divides": edit("wilson_interval", (_WILSON_EMPTY, "")),
    "no_validation": edit("wilson_interval", (_WILSON_CHECK, ""), ("math.sqrt(p_hat", "math.sqrt(abs(p_hat"),
                          ("(4.0 * n * n))", "(4.0 * n * n)))")),
    "returns_list": edit("wilson_interval", ("return (0.0, 1.0)", "return [0.0, 1.0]"),
                         (_WILSON_RETURN, "return [" + _WILSON_RETURN[len("return ("):-1] + "]")),
    "cheat_always_equal_tuple": always_equal('''
        def wilson_interval(k, n, z=1.96):
            return _EqTuple((0.5, 0.5))
    '''),
    "cheat_patched_comparisons": patched_comparisons(_WALD),
    # a realistic slip: "no data" answered before the arguments are checked, so (1, 0) gives (0.0, 1.0)
    "n_zero_checked_before_k_gt_n": edit("wilson_interval", (_WILSON_CHECK + _WILSON_EMPTY, _WILSON_EMPTY + _WILSON_CHECK)),
}

_POOLED = "variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)"
_UNPOOLED = edit("two_proportion_z_test", (_POOLED, "variance = p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2"))

ZTEST = {
    "unpooled_variance": _UNPOOLED,
    "reversed_sign": edit("two_proportion_z_test", ("z = (p2 - p1)", "z = (p1 - p2)")),
    "two_sided_not_doubled": edit("two_proportion_z_test", ("p_value = 2.0 * normal.cdf(-abs(z))", "p_value = normal.cdf(-abs(z))")),
    "less_greater_swapped": edit("two_proportion_z_test", ('if alternative == "less":', 'if alternative == "greater":'),
                                 ('elif alternative == "greater":', 'elif alternative == "less":')),
    "zero_variance_not_handled": edit("two_proportion_z_test", ("    if variance <= 0.0:\n        return (0.0, 1.0)\n", "")),
    "two_sided_without_abs": edit("two_proportion_z_test", ("2.0 * normal.cdf(-abs(z))", "2.0 * normal.cdf(-z)")),
    "variance_of_sum_not_difference": edit("two_proportion_z_test", (_POOLED, "variance = pooled * (1.0 - pooled) / (n1 + n2)")),
    # a realistic slip: right in every value, but an unknown alternative silently runs as two-sided
    "unknown_alternative_runs_two_sided": edit("two_proportion_z_test", (
        '    if alternative not in ("two-sided", "less", "greater"):\n', "    if False:\n")),
    "cheat_always_equal_float": always_equal('''
        def two_proportion_z_test(k1, n1, k2, n2, alternative="two-sided"):
            return (_EqFloat(0.0), _EqFloat(1.0))
    '''),
    "cheat_patched_comparisons": patched_comparisons(_UNPOOLED),
}

_IGNORES_MIN_DROP = edit("detect_degradation", ('drop >= policy["min_drop"] and ', ""))

DETECT = {
    # a realistic slip: max_confidence_drop read as a relative fall
    "relative_confidence_drop": edit("detect_degradation", (
        'confidence_drop = baseline["mean_confidence"] - current["mean_confidence"]',
        'confidence_drop = (baseline["mean_confidence"] - current["mean_confidence"]) / baseline["mean_confidence"]')),
    "no_min_samples_check": edit("detect_degradation", ('if current["n"] < policy["min_samples"]:', "if False:")),
    "accuracy_judged_without_enough_data": edit("detect_degradation", ("    else:\n        base_acc", "    if True:\n        base_acc")),
    "min_samples_inclusive": edit("detect_degradation", ('current["n"] < policy["min_samples"]', 'current["n"] <= policy["min_samples"]')),
    "ignores_min_drop": _IGNORES_MIN_DROP,
    "ignores_p_value": edit("detect_degradation", (' and p_value < policy["alpha"]', "")),
    "two_sided_test": edit("detect_degradation", ('alternative="less"', 'alternative="two-sided"')),
    "min_drop_strict": edit("detect_degradation", ('drop >= policy["min_drop"]', 'drop > policy["min_drop"]')),
    "confidence_strict": edit("detect_degradation", ('>= policy["max_confidence_drop"]', '> policy["max_confidence_drop"]')),
    "latency_at_slo_fires": edit("detect_degradation", ('> policy["latency_slo_ms"]', '>= policy["latency_slo_ms"]')),
    "returns_early_without_data": edit("detect_degradation", (
        "to judge accuracy\"})\n", "to judge accuracy\"})\n        return alerts\n")),
    "relative_drop": edit("detect_degradation", ("drop = base_acc - cur_acc", "drop = 1 - cur_acc / base_acc")),
    # raises inside a hidden test: reads an "accuracy" key the window does not have (on large windows only)
    "reads_accuracy_from_the_window": edit("detect_degradation", ('cur_acc = current["correct"] / current["n"]',
                                                                  'cur_acc = current["correct"] / current["n"] if current["n"] < 100_000 else current["accuracy"]')),
    "mutates_current": edit("detect_degradation", (
        "    alerts = []\n", '    alerts = []\n    current["accuracy"] = current["correct"] / max(1, current["n"])\n')),
    "cheat_always_equal_list": always_equal('''
        def detect_degradation(baseline, current, policy):
            return _EqList()
    '''),
    "cheat_patched_comparisons": patched_comparisons(_IGNORES_MIN_DROP),
}

_PSI_FLOOR = "    e = np.maximum(e / e.sum(), eps)\n    a = np.maximum(a / a.sum(), eps)\n"
_PSI_SUM = "np.sum((a - e) * np.log(a / e))"
_KL = edit("population_stability_index", (_PSI_SUM, "np.sum(a * np.log(a / e))"))

PSI = {
    "no_normalization": edit("population_stability_index", (_PSI_FLOOR, "    e, a = np.maximum(e, eps), np.maximum(a, eps)\n")),
    "floor_before_normalizing": edit("population_stability_index", (
        _PSI_FLOOR, "    e, a = np.maximum(e, eps), np.maximum(a, eps)\n    e, a = e / e.sum(), a / a.sum()\n")),
    "renormalize_after_floor": edit("population_stability_index", (_PSI_FLOOR, _PSI_FLOOR + "    e, a = e / e.sum(), a / a.sum()\n")),
    "kl_divergence_only": _KL,
    "sign_flipped": edit("population_stability_index", ("(a - e) * np.log", "(e - a) * np.log")),
    "no_eps_floor": edit("population_stability_index", (
        _PSI_FLOOR + f"    return float({_PSI_SUM})",
        f"    e, a = e / e.sum(), a / a.sum()\n    with np.errstate(all=\"ignore\"):\n        return float(np.nan{_PSI_SUM[3:]})")),
    "eps_hardcoded": edit("population_stability_index", (_PSI_FLOOR, _PSI_FLOOR.replace("eps)", "1e-4)"))),
    # zip's habit: pairs up to the shorter side, so different lengths pass unnoticed
    "no_length_check": edit("population_stability_index", (
        "    if e.ndim != 1 or a.ndim != 1 or e.shape != a.shape:\n",
        "    size = min(e.size, a.size)\n    e, a = e[:size], a[:size]\n    if False:\n")),
    "returns_numpy_scalar": edit("population_stability_index", (f"return float({_PSI_SUM})", f"return {_PSI_SUM}")),
    "cheat_always_equal_float": always_equal('''
        def population_stability_index(expected, actual, eps=1e-4):
            if len(expected) != len(actual):
                raise ValueError("length")
            return _EqFloat(0.0)
    '''),
    "cheat_patched_comparisons": patched_comparisons(_KL),
}

_P95 = "np.percentile([r[1] for r in self._records], 95)"
_MEAN_CONFIDENCE = "np.mean([r[0] for r in self._records])"
_UNBOUNDED = edit("RollingMonitor", ("deque(maxlen=window)", "deque()"))
_NO_MONITOR = '''
    class RollingMonitor:
        def __init__(self, window=500):
            self.window = window
        def record(self, confidence, latency_ms, correct=None, error=False):
            pass
        def health(self):
'''

MONITOR = {
    "unbounded_history": _UNBOUNDED,
    "window_off_by_one": edit("RollingMonitor", ("deque(maxlen=window)", "deque(maxlen=window + 1)")),
    "unlabelled_counted_as_wrong": edit("RollingMonitor", ("/ len(labels)) if labels", "/ n) if labels")),
    "accuracy_zero_without_labels": edit("RollingMonitor", ("if labels else None", "if labels else 0.0")),
    "p95_higher_method": edit("RollingMonitor", (_P95, _P95[:-1] + ', method="higher")')),
    "p95_is_mean": edit("RollingMonitor", (_P95, "np.mean([r[1] for r in self._records])")),
    "degraded_at_five_percent": edit("RollingMonitor", ("error_rate > 0.05", "error_rate >= 0.05")),
    "shared_class_level_records": edit("RollingMonitor", ("        self._records = deque(maxlen=window)\n", ""),
                                       ("class RollingMonitor:\n", "class RollingMonitor:\n    _records = deque(maxlen=500)\n")),
    "empty_is_healthy": edit("RollingMonitor", ('"error_rate": None, "status": "no data"}', '"error_rate": None, "status": "healthy"}')),
    # raises inside a hidden test: ZeroDivisionError when no record has a label
    "accuracy_divides_without_labels": edit("RollingMonitor", (" / len(labels)) if labels else None", " / len(labels))")),
    "numpy_scalars": edit("RollingMonitor", (f"float({_MEAN_CONFIDENCE})", _MEAN_CONFIDENCE), (f"float({_P95})", _P95)),
    "cheat_always_equal_dict": always_equal(_NO_MONITOR + '''
            return _EqDict(n=_EqInt(0), accuracy=_EqFloat(0.0), mean_confidence=_EqFloat(0.0),
                           p95_latency_ms=_EqFloat(0.0), error_rate=_EqFloat(0.0), status=_EqStr("no data"))
    '''),
    "cheat_always_equal_int_str": always_equal(_NO_MONITOR + '''
            return {"n": _EqInt(0), "accuracy": _EqFloat(0.0), "mean_confidence": _EqFloat(0.0),
                    "p95_latency_ms": _EqFloat(0.0), "error_rate": _EqFloat(0.0), "status": _EqStr("no data")}
    '''),
    "cheat_patched_comparisons": patched_comparisons(_UNBOUNDED),
}

_STREAK = "self._streak[name] >= self.consecutive"
_GROW = "                self._streak[name] = self._streak.get(name, 0) + 1\n"
_NO_COOLDOWN = edit("AlertManager", ("\n                    and (last is None or t - last >= self.cooldown))", ")"))
_NO_MANAGER = '''
    class AlertManager:
        def __init__(self, cooldown=50, consecutive=3):
            self.active = set()
        def update(self, t, firing):
'''

MANAGER = {
    "no_cooldown": _NO_COOLDOWN,
    "cooldown_strict": edit("AlertManager", ("t - last >= self.cooldown", "t - last > self.cooldown")),
    "streak_never_reset": edit("AlertManager", ("                self._streak[name] = 0\n", "")),
    "never_leaves_active": edit("AlertManager", ("                self.active.discard(name)\n", "")),
    "raised_again_while_active": edit("AlertManager", (" and name not in self.active", "")),
    "streak_must_equal_consecutive": edit("AlertManager", (_STREAK, _STREAK.replace(">=", "=="))),
    "consecutive_off_by_one": edit("AlertManager", (_STREAK, _STREAK.replace(">=", ">"))),
    # raises inside a hidden test: KeyError for a name never raised before
    "last_raised_looked_up_without_default": edit("AlertManager", ("last = self._last_raised.get(name)",
                                                                    "last = self._last_raised[name]")),
    "reverse_sorted": edit("AlertManager", ("for name in sorted(firing):", "for name in sorted(firing, reverse=True):")),
    "cooldown_from_first_firing": edit("AlertManager", (_GROW, _GROW + "                if self._streak[name] == 1 and name in self._last_raised:\n"
                                                                       "                    self._last_raised[name] = t\n")),
    "shared_class_level_state": edit("AlertManager", ("        self.active = set()\n        self._streak = {}\n        self._last_raised = {}\n", ""),
                                     ("class AlertManager:\n", "class AlertManager:\n    active = set()\n    _streak = {}\n    _last_raised = {}\n")),
    "cheat_always_equal_list": always_equal(_NO_MANAGER + '''
            return _EqList()
    '''),
    "cheat_always_equal_str_items": always_equal(_NO_MANAGER + '''
            return [_EqStr(name) for name in sorted(firing)]
    '''),
    "cheat_patched_comparisons": patched_comparisons(_NO_COOLDOWN),
}

MUTANTS = {
    "wilson_interval": WILSON,
    "two_proportion_z_test": ZTEST,
    "detect_degradation": DETECT,
    "population_stability_index": PSI,
    "RollingMonitor": MONITOR,
    "AlertManager": MANAGER,
}


# Realistic slips a careful reader of the statement could still make, each with the hidden test cell
# (the behaviour's own cell) in which it must lose its points.
SLIPS = {
    ("wilson_interval", "n_zero_checked_before_k_gt_n"): "test_wilson_interval_hidden_errors",
    ("two_proportion_z_test", "unknown_alternative_runs_two_sided"): "test_two_proportion_z_test_hidden_alternative",
    ("detect_degradation", "relative_confidence_drop"): "test_detect_degradation_hidden_confidence_latency",
    # graded once (issue 19): each costs its own cell only, checked by tests/test_02_lessons.py
    ("detect_degradation", "min_samples_inclusive"): "test_detect_degradation_hidden_min_samples",
    ("AlertManager", "streak_never_reset"): "test_AlertManager_hidden_streak",
}


# Wrong implementations that raise inside a hidden test: the failure must name the call that raised (with its
# inputs) and what was expected instead, never a bare "ZeroDivisionError: division by zero" (issue 19). Each maps
# to the hidden cell and the words its message must hold.
RAISING = {
    ("RollingMonitor", "accuracy_divides_without_labels"): (
        "test_RollingMonitor_hidden_labels_errors",
        ["RollingMonitor(window=10), after record(0.5, 10.0)", "health() raised ZeroDivisionError", "expected a monitor"]),
    ("detect_degradation", "reads_accuracy_from_the_window"): (
        "test_detect_degradation_hidden_accuracy",
        ["detect_degradation({'n': 100000, 'correct': 60000", "raised KeyError: 'accuracy'", "expected a list of alert dicts"]),
    ("AlertManager", "last_raised_looked_up_without_default"): (
        "test_AlertManager_hidden_cooldown",
        ["AlertManager(cooldown=10, consecutive=1), before any other call: update(0, {'x'}) raised KeyError: 'x'",
         "expected update() to return the names raised"]),
    ("wilson_interval", "n_zero_divides"): (
        "test_wilson_interval_hidden_errors",
        ["wilson_interval(0, 0) raised ZeroDivisionError", "expected a (lower, upper) tuple"]),
}


# Correct implementations written from the statement alone (the exercise's markdown and the contract in
# CURRICULUM.md), without reading the reference solutions: each must keep every point, so the hidden tests
# judge what the statement asks, not the reference's way of doing it.
ALTERNATIVES = {
    "wilson_interval": {
        # The interval as the two roots of the quadratic (p̂ - p)² = z² p (1 - p) / n.
        "roots_of_the_quadratic": _src('''
            def wilson_interval(k, n, z=1.96):
                if min(k, n) < 0 or k > n:
                    raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
                if n == 0:
                    return 0.0, 1.0
                share, z2 = k / n, z * z
                a = 1.0 + z2 / n
                b = -(2.0 * share + z2 / n)
                c = share * share
                root = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
                low, high = (-b - root) / (2.0 * a), (-b + root) / (2.0 * a)
                return max(0.0, float(low)), min(1.0, float(high))
        '''),
    },
    "two_proportion_z_test": {
        # Φ from math.erfc, the p-value picked from a table of the three alternatives, checked up front.
        "erfc_and_a_table_of_tails": _src('''
            def two_proportion_z_test(k1, n1, k2, n2, alternative="two-sided"):
                def phi(x):
                    return 0.5 * math.erfc(-x / math.sqrt(2.0))
                tails = {"less": lambda z: phi(z), "greater": lambda z: 1.0 - phi(z),
                         "two-sided": lambda z: 2.0 * (1.0 - phi(abs(z)))}
                if alternative not in tails:
                    raise ValueError(f"alternative must be one of {sorted(tails)}, not {alternative!r}")
                pooled = (k1 + k2) / (n1 + n2)
                variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
                if variance == 0:
                    return 0.0, 1.0
                z = (k2 / n2 - k1 / n1) / math.sqrt(variance)
                return float(z), float(tails[alternative](z))
        '''),
    },
    "detect_degradation": {
        # Each rule a small function that returns an alert or None; the list keeps the ones that fired.
        "one_function_per_rule": _src('''
            def detect_degradation(baseline, current, policy):
                def alert(metric, severity, message):
                    return {"metric": metric, "severity": severity, "message": message}

                def labels():
                    if current["n"] < policy["min_samples"]:
                        return alert("data", "info", f"only {current['n']} labels, need {policy['min_samples']}: "
                                                     "not enough data to judge accuracy")
                    before = baseline["correct"] / baseline["n"]
                    now = current["correct"] / current["n"]
                    _, p_value = two_proportion_z_test(baseline["correct"], baseline["n"],
                                                       current["correct"], current["n"], "less")
                    if before - now >= policy["min_drop"] and p_value < policy["alpha"]:
                        return alert("accuracy", "critical", f"accuracy {before:.3f} -> {now:.3f} (p = {p_value:.2g})")
                    return None

                def confidence():
                    fall = baseline["mean_confidence"] - current["mean_confidence"]
                    if fall >= policy["max_confidence_drop"]:
                        return alert("confidence", "warning", f"mean confidence fell by {fall:.3f}")
                    return None

                def latency():
                    if current["p95_latency_ms"] > policy["latency_slo_ms"]:
                        return alert("latency", "warning",
                                     f"p95 latency {current['p95_latency_ms']} ms over the {policy['latency_slo_ms']} ms SLO")
                    return None

                return [found for found in (labels(), confidence(), latency()) if found is not None]
        '''),
    },
    "population_stability_index": {
        # Plain Python over pairs of counts, no NumPy.
        "pure_python_sum": _src('''
            def population_stability_index(expected, actual, eps=1e-4):
                expected, actual = [float(x) for x in expected], [float(x) for x in actual]
                if len(expected) != len(actual):
                    raise ValueError(f"{len(expected)} expected counts but {len(actual)} actual counts")
                if all(x == 0 for x in expected) or all(x == 0 for x in actual):
                    raise ValueError("a side has no counts at all")
                total_e, total_a = sum(expected), sum(actual)
                psi = 0.0
                for count_e, count_a in zip(expected, actual):
                    e = max(count_e / total_e, eps)
                    a = max(count_a / total_a, eps)
                    psi += (a - e) * math.log(a / e)
                return float(psi)
        '''),
    },
    "RollingMonitor": {
        # A list trimmed to the window, and the linear percentile interpolated by hand.
        "trimmed_list_and_hand_percentile": _src('''
            class RollingMonitor:
                def __init__(self, window=500):
                    self.size = window
                    self.log = []

                def record(self, confidence, latency_ms, correct=None, error=False):
                    self.log.append({"confidence": float(confidence), "latency": float(latency_ms),
                                     "correct": correct, "error": bool(error)})
                    if len(self.log) > self.size:
                        del self.log[: len(self.log) - self.size]

                def health(self):
                    count = len(self.log)
                    if count == 0:
                        return {"n": 0, "accuracy": None, "mean_confidence": None, "p95_latency_ms": None,
                                "error_rate": None, "status": "no data"}
                    labelled = [r["correct"] for r in self.log if r["correct"] is not None]
                    latencies = sorted(r["latency"] for r in self.log)
                    position = 0.95 * (count - 1)
                    below = int(math.floor(position))
                    above = min(below + 1, count - 1)
                    p95 = latencies[below] + (position - below) * (latencies[above] - latencies[below])
                    errors = sum(1 for r in self.log if r["error"]) / count
                    return {"n": count,
                            "accuracy": sum(1 for c in labelled if c is True) / len(labelled) if labelled else None,
                            "mean_confidence": sum(r["confidence"] for r in self.log) / count,
                            "p95_latency_ms": float(p95),
                            "error_rate": float(errors),
                            "status": "degraded" if errors > 0.05 else "healthy"}
        '''),
    },
    "AlertManager": {
        # One record per name: its streak and when it was last raised.
        "per_name_records": _src('''
            class AlertManager:
                def __init__(self, cooldown=50, consecutive=3):
                    self.cooldown, self.consecutive = cooldown, consecutive
                    self.active = set()
                    self.names = {}

                def update(self, t, firing):
                    for name in firing:
                        self.names.setdefault(name, {"streak": 0, "raised_at": None})
                    raised = []
                    for name, state in self.names.items():
                        if name not in firing:
                            state["streak"] = 0
                            self.active.discard(name)
                            continue
                        state["streak"] += 1
                        cooled = state["raised_at"] is None or t - state["raised_at"] >= self.cooldown
                        if state["streak"] >= self.consecutive and name not in self.active and cooled:
                            state["raised_at"] = t
                            self.active.add(name)
                            raised.append(name)
                    return sorted(raised)
        '''),
    },
}
