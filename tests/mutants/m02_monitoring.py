"""Wrong implementations of the graded names of assignment 2 (02_monitoring); every one must lose points.

``MUTANTS[graded_name][mutant_name]`` is source code that replaces the solution cell ``graded_name`` of
``source/02_monitoring/02_monitoring.ipynb`` (a class mutant defines the class). Each graded name has
plausible mistakes (off-by-one, missing edge case, wrong formula variant, forgotten reset, shared state,
...) and two cheats: objects whose ``__eq__`` always answers True (subclasses of float, int, str, tuple,
list and dict across the corpus), and a wrong answer that also monkeypatches NumPy's and math's
comparison functions.
"""

from textwrap import dedent

from cheats import ALWAYS_EQUAL, PATCH_COMPARISONS  # noqa: E402 (tests/mutants is on sys.path when a corpus loads)


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


def _join(*parts: str) -> str:
    """Dedent each part on its own, then join them into one source."""
    return "\n".join(dedent(part).strip() for part in parts) + "\n"


# ------------------------------------------------------------------------------------------------ wilson_interval
_WILSON_HEAD = '''
def wilson_interval(k, n, z=1.96):
    if n < 0 or k < 0 or k > n:
        raise ValueError("bad k, n")
    if n == 0:
        return (0.0, 1.0)
    p = k / n
'''

_WALD = _WILSON_HEAD + '''
    half = z * math.sqrt(p * (1 - p) / n)
    return (float(max(0.0, p - half)), float(min(1.0, p + half)))
'''

WILSON = {
    "wald_interval": _src(_WALD),
    "no_z2_over_4n2_term": _src(_WILSON_HEAD + '''
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z / d * math.sqrt(p * (1 - p) / n)
    return (float(max(0.0, c - h)), float(min(1.0, c + h)))
    '''),
    "no_denominator": _src(_WILSON_HEAD + '''
    c = p + z * z / (2 * n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (float(max(0.0, c - h)), float(min(1.0, c + h)))
    '''),
    "hardcoded_z": _src(_WILSON_HEAD + '''
    z = 1.96
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (float(max(0.0, c - h)), float(min(1.0, c + h)))
    '''),
    "n_zero_divides": _src('''
    def wilson_interval(k, n, z=1.96):
        if n < 0 or k < 0 or k > n:
            raise ValueError("bad k, n")
        p = k / n
        d = 1 + z * z / n
        c = (p + z * z / (2 * n)) / d
        h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (float(max(0.0, c - h)), float(min(1.0, c + h)))
    '''),
    "no_validation": _src('''
    def wilson_interval(k, n, z=1.96):
        if n == 0:
            return (0.0, 1.0)
        p = k / n
        d = 1 + z * z / n
        c = (p + z * z / (2 * n)) / d
        h = z / d * math.sqrt(abs(p * (1 - p) / n + z * z / (4 * n * n)))
        return (float(max(0.0, c - h)), float(min(1.0, c + h)))
    '''),
    "returns_list": _src('''
    def wilson_interval(k, n, z=1.96):
        if n < 0 or k < 0 or k > n:
            raise ValueError("bad k, n")
        if n == 0:
            return [0.0, 1.0]
        p = k / n
        d = 1 + z * z / n
        c = (p + z * z / (2 * n)) / d
        h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return [float(max(0.0, c - h)), float(min(1.0, c + h))]
    '''),
    "cheat_always_equal_tuple": _join(ALWAYS_EQUAL, '''
    def wilson_interval(k, n, z=1.96):
        return _EqTuple((0.5, 0.5))
    '''),
    "cheat_patch_comparisons": _src(PATCH_COMPARISONS + _WALD),
    # a realistic slip: "no data" answered before the arguments are checked, so (1, 0) gives (0.0, 1.0)
    "n_zero_checked_before_k_gt_n": _src('''
    def wilson_interval(k, n, z=1.96):
        if n == 0:
            return (0.0, 1.0)
        if n < 0 or k < 0 or k > n:
            raise ValueError("bad k, n")
        p = k / n
        d = 1 + z * z / n
        c = (p + z * z / (2 * n)) / d
        h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (float(max(0.0, c - h)), float(min(1.0, c + h)))
    '''),
}

# ------------------------------------------------------------------------------------------ two_proportion_z_test
def _ztest(variance: str, z_expr: str, pvals: str, zero: str = "    if var <= 0:\n        return (0.0, 1.0)\n",
           prefix: str = "") -> str:
    return _src(prefix + f'''
def two_proportion_z_test(k1, n1, k2, n2, alternative="two-sided"):
    p1, p2 = k1 / n1, k2 / n2
    p = (k1 + k2) / (n1 + n2)
    var = {variance}
{zero}    z = {z_expr}
    phi = NormalDist().cdf
{pvals}
    return (float(z), float(pv))
''')


_PVALS = '''    if alternative == "less":
        pv = phi(z)
    elif alternative == "greater":
        pv = 1 - phi(z)
    else:
        pv = 2 * phi(-abs(z))'''
_POOLED = "p * (1 - p) * (1 / n1 + 1 / n2)"

ZTEST = {
    "unpooled_variance": _ztest("p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2", "(p2 - p1) / math.sqrt(var)", _PVALS),
    "reversed_sign": _ztest(_POOLED, "(p1 - p2) / math.sqrt(var)", _PVALS),
    "two_sided_not_doubled": _ztest(_POOLED, "(p2 - p1) / math.sqrt(var)", _PVALS.replace("2 * phi(-abs(z))", "phi(-abs(z))")),
    "less_greater_swapped": _ztest(_POOLED, "(p2 - p1) / math.sqrt(var)",
                                   _PVALS.replace('"less"', '"LESS"').replace('"greater"', '"less"').replace('"LESS"', '"greater"')),
    "zero_variance_not_handled": _ztest(_POOLED, "(p2 - p1) / math.sqrt(var)", _PVALS, zero=""),
    "two_sided_without_abs": _ztest(_POOLED, "(p2 - p1) / math.sqrt(var)", _PVALS.replace("2 * phi(-abs(z))", "2 * (1 - phi(z))")),
    "variance_of_sum_not_difference": _ztest("p * (1 - p) / (n1 + n2)", "(p2 - p1) / math.sqrt(var)", _PVALS),
    # a realistic slip: right in every value, but an unknown alternative silently runs as two-sided
    "unknown_alternative_runs_two_sided": _ztest(_POOLED, "(p2 - p1) / math.sqrt(var)", _PVALS),
    "cheat_always_equal_float": _join(ALWAYS_EQUAL, '''
    def two_proportion_z_test(k1, n1, k2, n2, alternative="two-sided"):
        return (_EqFloat(0.0), _EqFloat(1.0))
    '''),
    "cheat_patch_comparisons": _ztest("p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2", "(p2 - p1) / math.sqrt(var)", _PVALS,
                                      prefix=PATCH_COMPARISONS),
}

# --------------------------------------------------------------------------------------------- detect_degradation
_DETECT = '''
def detect_degradation(baseline, current, policy):
    alerts = []
    if current["n"] < policy["min_samples"]:
        alerts.append({"metric": "data", "severity": "info", "message": "not enough data"})
    else:
        drop = baseline["correct"] / baseline["n"] - current["correct"] / current["n"]
        _, p = two_proportion_z_test(baseline["correct"], baseline["n"], current["correct"], current["n"], alternative="less")
        if drop >= policy["min_drop"] and p < policy["alpha"]:
            alerts.append({"metric": "accuracy", "severity": "critical", "message": "accuracy fell"})
    if baseline["mean_confidence"] - current["mean_confidence"] >= policy["max_confidence_drop"]:
        alerts.append({"metric": "confidence", "severity": "warning", "message": "confidence fell"})
    if current["p95_latency_ms"] > policy["latency_slo_ms"]:
        alerts.append({"metric": "latency", "severity": "warning", "message": "slow"})
    return alerts
'''


def _detect(*replacements: tuple[str, str], prefix: str = "") -> str:
    source = _DETECT
    for old, new in replacements:
        if old not in source:
            raise ValueError(f"mutant replacement not found: {old!r}")
        source = source.replace(old, new)
    return _src(prefix + source)


DETECT = {
    # a realistic slip: max_confidence_drop read as a relative fall
    "relative_confidence_drop": _detect(('baseline["mean_confidence"] - current["mean_confidence"] >= policy["max_confidence_drop"]',
                                         '(baseline["mean_confidence"] - current["mean_confidence"]) / baseline["mean_confidence"] '
                                         '>= policy["max_confidence_drop"]')),
    "no_min_samples_check": _detect(('current["n"] < policy["min_samples"]', 'False')),
    "accuracy_judged_without_enough_data": _detect(('    else:\n        drop', '    if True:\n        drop')),
    "min_samples_inclusive": _detect(('current["n"] < policy["min_samples"]', 'current["n"] <= policy["min_samples"]')),
    "ignores_min_drop": _detect(('drop >= policy["min_drop"] and ', '')),
    "ignores_p_value": _detect((' and p < policy["alpha"]', '')),
    "two_sided_test": _detect(('alternative="less"', 'alternative="two-sided"')),
    "min_drop_strict": _detect(('drop >= policy["min_drop"]', 'drop > policy["min_drop"]')),
    "confidence_strict": _detect(('>= policy["max_confidence_drop"]', '> policy["max_confidence_drop"]')),
    "latency_at_slo_fires": _detect(('> policy["latency_slo_ms"]', '>= policy["latency_slo_ms"]')),
    "returns_early_without_data": _detect(('"message": "not enough data"})', '"message": "not enough data"})\n        return alerts')),
    "relative_drop": _detect(('drop = baseline["correct"] / baseline["n"] - current["correct"] / current["n"]',
                              'drop = 1 - (current["correct"] / current["n"]) / (baseline["correct"] / baseline["n"])')),
    "mutates_current": _detect(('    alerts = []', '    alerts = []\n    current["accuracy"] = current["correct"] / max(1, current["n"])')),
    "cheat_always_equal_list": _join(ALWAYS_EQUAL, '''
    def detect_degradation(baseline, current, policy):
        return _EqList()
    '''),
    "cheat_patch_comparisons": _detect(('drop >= policy["min_drop"] and ', ''), prefix=PATCH_COMPARISONS),
}

# ------------------------------------------------------------------------------------- population_stability_index
_PSI_CHECKS = '''
def population_stability_index(expected, actual, eps=1e-4):
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        raise ValueError("length")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("zero")
'''

PSI = {
    "no_normalization": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e, eps), np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))
    '''),
    "floor_before_normalizing": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e, eps), np.maximum(a, eps)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))
    '''),
    "renormalize_after_floor": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e / e.sum(), eps), np.maximum(a / a.sum(), eps)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))
    '''),
    "kl_divergence_only": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e / e.sum(), eps), np.maximum(a / a.sum(), eps)
    return float(np.sum(a * np.log(a / e)))
    '''),
    "sign_flipped": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e / e.sum(), eps), np.maximum(a / a.sum(), eps)
    return float(np.sum((e - a) * np.log(a / e)))
    '''),
    "no_eps_floor": _src(_PSI_CHECKS + '''
    e, a = e / e.sum(), a / a.sum()
    with np.errstate(all="ignore"):
        return float(np.nansum((a - e) * np.log(a / e)))
    '''),
    "eps_hardcoded": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e / e.sum(), 1e-4), np.maximum(a / a.sum(), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))
    '''),
    "no_length_check": _src('''
    def population_stability_index(expected, actual, eps=1e-4):
        pairs = list(zip(expected, actual))
        se, sa = sum(x for x, _ in pairs), sum(y for _, y in pairs)
        if se <= 0 or sa <= 0:
            raise ValueError("zero")
        total = 0.0
        for x, y in pairs:
            ei, ai = max(x / se, eps), max(y / sa, eps)
            total += (ai - ei) * math.log(ai / ei)
        return float(total)
    '''),
    "returns_numpy_scalar": _src(_PSI_CHECKS + '''
    e, a = np.maximum(e / e.sum(), eps), np.maximum(a / a.sum(), eps)
    return np.sum((a - e) * np.log(a / e))
    '''),
    "cheat_always_equal_float": _join(ALWAYS_EQUAL, '''
    def population_stability_index(expected, actual, eps=1e-4):
        if len(expected) != len(actual):
            raise ValueError("length")
        return _EqFloat(0.0)
    '''),
    "cheat_patch_comparisons": _src(PATCH_COMPARISONS + _PSI_CHECKS + '''
    e, a = np.maximum(e / e.sum(), eps), np.maximum(a / a.sum(), eps)
    return float(np.sum(a * np.log(a / e)))
    '''),
}

# ------------------------------------------------------------------------------------------------- RollingMonitor
_MONITOR = '''
class RollingMonitor:
    def __init__(self, window=500):
        self.window = window
        self._records = deque(maxlen=window)

    def record(self, confidence, latency_ms, correct=None, error=False):
        self._records.append((float(confidence), float(latency_ms), correct, bool(error)))

    def health(self):
        n = len(self._records)
        if n == 0:
            return {"n": 0, "accuracy": None, "mean_confidence": None, "p95_latency_ms": None,
                    "error_rate": None, "status": "no data"}
        labels = [r[2] for r in self._records if r[2] is not None]
        accuracy = float(sum(1 for c in labels if c) / len(labels)) if labels else None
        error_rate = float(sum(1 for r in self._records if r[3]) / n)
        return {"n": n, "accuracy": accuracy,
                "mean_confidence": float(np.mean([r[0] for r in self._records])),
                "p95_latency_ms": float(np.percentile([r[1] for r in self._records], 95)),
                "error_rate": error_rate,
                "status": "degraded" if error_rate > 0.05 else "healthy"}
'''


def _monitor(*replacements: tuple[str, str], prefix: str = "") -> str:
    source = _MONITOR
    for old, new in replacements:
        if old not in source:
            raise ValueError(f"mutant replacement not found: {old!r}")
        source = source.replace(old, new)
    return _src(prefix + source)


MONITOR = {
    "unbounded_history": _monitor(("deque(maxlen=window)", "deque()")),
    "window_off_by_one": _monitor(("deque(maxlen=window)", "deque(maxlen=window + 1)")),
    "unlabelled_counted_as_wrong": _monitor(("if labels else None", "if labels else None\n"
                                             "        accuracy = float(sum(1 for c in labels if c) / n) if labels else None")),
    "accuracy_zero_without_labels": _monitor(("if labels else None", "if labels else 0.0")),
    "p95_higher_method": _monitor(('np.percentile([r[1] for r in self._records], 95)',
                                   'np.percentile([r[1] for r in self._records], 95, method="higher")')),
    "p95_is_mean": _monitor(('np.percentile([r[1] for r in self._records], 95)', 'np.mean([r[1] for r in self._records])')),
    "degraded_at_five_percent": _monitor(("error_rate > 0.05", "error_rate >= 0.05")),
    "shared_class_level_records": _monitor(("        self._records = deque(maxlen=window)\n", ""),
                                           ("class RollingMonitor:\n", "class RollingMonitor:\n    _records = deque(maxlen=500)\n")),
    "empty_is_healthy": _monitor(('"error_rate": None, "status": "no data"}', '"error_rate": None, "status": "healthy"}')),
    "numpy_scalars": _monitor(('float(np.mean([r[0] for r in self._records]))', 'np.mean([r[0] for r in self._records])'),
                              ('float(np.percentile([r[1] for r in self._records], 95))',
                               'np.percentile([r[1] for r in self._records], 95)')),
    "cheat_always_equal_dict": _join(ALWAYS_EQUAL, '''
    class RollingMonitor:
        def __init__(self, window=500):
            self.window = window
        def record(self, confidence, latency_ms, correct=None, error=False):
            pass
        def health(self):
            return _EqDict(n=_EqInt(0), accuracy=_EqFloat(0.0), mean_confidence=_EqFloat(0.0),
                           p95_latency_ms=_EqFloat(0.0), error_rate=_EqFloat(0.0), status=_EqStr("no data"))
    '''),
    "cheat_always_equal_int_str": _join(ALWAYS_EQUAL, '''
    class RollingMonitor:
        def __init__(self, window=500):
            self.window = window
        def record(self, confidence, latency_ms, correct=None, error=False):
            pass
        def health(self):
            return {"n": _EqInt(0), "accuracy": _EqFloat(0.0), "mean_confidence": _EqFloat(0.0),
                    "p95_latency_ms": _EqFloat(0.0), "error_rate": _EqFloat(0.0), "status": _EqStr("no data")}
    '''),
    "cheat_patch_comparisons": _monitor(("deque(maxlen=window)", "deque()"), prefix=PATCH_COMPARISONS),
}

# --------------------------------------------------------------------------------------------------- AlertManager
_MANAGER = '''
class AlertManager:
    def __init__(self, cooldown=50, consecutive=3):
        self.cooldown = cooldown
        self.consecutive = consecutive
        self.active = set()
        self._streak = {}
        self._last = {}

    def update(self, t, firing):
        firing = set(firing)
        for name in set(self._streak) | firing:
            if name in firing:
                self._streak[name] = self._streak.get(name, 0) + 1
            else:
                self._streak[name] = 0
                self.active.discard(name)
        raised = []
        for name in sorted(firing):
            last = self._last.get(name)
            if self._streak[name] >= self.consecutive and name not in self.active and (last is None or t - last >= self.cooldown):
                raised.append(name)
                self.active.add(name)
                self._last[name] = t
        return raised
'''


def _manager(*replacements: tuple[str, str], prefix: str = "") -> str:
    source = _MANAGER
    for old, new in replacements:
        if old not in source:
            raise ValueError(f"mutant replacement not found: {old!r}")
        source = source.replace(old, new)
    return _src(prefix + source)


MANAGER = {
    "no_cooldown": _manager((" and (last is None or t - last >= self.cooldown)", "")),
    "cooldown_strict": _manager(("t - last >= self.cooldown", "t - last > self.cooldown")),
    "streak_never_reset": _manager(("                self._streak[name] = 0\n", "")),
    "never_leaves_active": _manager(("                self.active.discard(name)\n", "                pass\n")),
    "raised_again_while_active": _manager((" and name not in self.active", "")),
    "streak_must_equal_consecutive": _manager(("self._streak[name] >= self.consecutive", "self._streak[name] == self.consecutive")),
    "consecutive_off_by_one": _manager(("self._streak[name] >= self.consecutive", "self._streak[name] > self.consecutive")),
    "reverse_sorted": _manager(("for name in sorted(firing):", "for name in sorted(firing, reverse=True):")),
    "cooldown_from_first_firing": _manager(("                self._streak[name] = self._streak.get(name, 0) + 1\n",
                                            "                self._streak[name] = self._streak.get(name, 0) + 1\n"
                                            "                if self._streak[name] == 1 and name in self._last:\n"
                                            "                    self._last[name] = t\n")),
    "shared_class_level_state": _manager(("        self.active = set()\n        self._streak = {}\n        self._last = {}\n", ""),
                                         ("class AlertManager:\n",
                                          "class AlertManager:\n    active = set()\n    _streak = {}\n    _last = {}\n")),
    "cheat_always_equal_list": _join(ALWAYS_EQUAL, '''
    class AlertManager:
        def __init__(self, cooldown=50, consecutive=3):
            self.active = set()
        def update(self, t, firing):
            return _EqList()
    '''),
    "cheat_always_equal_str_items": _join(ALWAYS_EQUAL, '''
    class AlertManager:
        def __init__(self, cooldown=50, consecutive=3):
            self.active = set()
        def update(self, t, firing):
            return [_EqStr(name) for name in sorted(firing)]
    '''),
    "cheat_patch_comparisons": _manager((" and (last is None or t - last >= self.cooldown)", ""), prefix=PATCH_COMPARISONS),
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
