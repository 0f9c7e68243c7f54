"""Wrong implementations of the graded names of assignment 3 (03_continuous_training); every one must lose points.

``MUTANTS[graded_name][mutant_name]`` is source code that replaces the solution cell ``graded_name`` of
``source/03_continuous_training/03_continuous_training.ipynb``. Most mutants are the reference solution
with one plausible mistake edited in (``_variant``, i.e. ``Reference.edit``, fails loudly if the reference no longer contains the
text it edits, so the corpus cannot silently go stale). Each graded name also has two cheats: objects
whose ``__eq__`` always answers True, and a wrong answer that also monkeypatches NumPy's and math's
comparison functions.
"""

from textwrap import dedent

from reference import Reference

from cheats import ALWAYS_EQUAL, PATCH_COMPARISONS  # noqa: E402 (tests/mutants is on sys.path when a corpus loads)

REFERENCE = Reference("03_continuous_training")
_variant = REFERENCE.edit


def _wrapped(name: str, new_name: str, wrapper: str) -> str:
    """The reference renamed to ``new_name``, followed by ``wrapper`` (which defines ``name`` again)."""
    return ALWAYS_EQUAL + _variant(name, (f"{'class' if name[0].isupper() else 'def'} {name}",
                                          f"{'class' if name[0].isupper() else 'def'} {new_name}")) + dedent(wrapper)


MUTANTS = {
    "ReservoirSampler": {
        "j_range_off_by_one": _variant("ReservoirSampler", ("self._rng.integers(0, self.seen)", "self._rng.integers(0, self.seen - 1)")),
        "never_replaces": _variant("ReservoirSampler", ("if j < self.capacity:", "if False:")),
        "keeps_latest_fifo": _variant("ReservoirSampler", (
            "        j = int(self._rng.integers(0, self.seen))\n        if j < self.capacity:\n            self._items[j] = item",
            "        self._items.pop(0)\n        self._items.append(item)")),
        "replaces_last_slot": _variant("ReservoirSampler", ("self._items[j] = item", "self._items[-1] = item")),
        "fixed_half_probability": _variant("ReservoirSampler", (
            "        if j < self.capacity:\n            self._items[j] = item",
            "        if self._rng.random() < 0.5:\n            self._items[j % self.capacity] = item")),
        "seen_only_counted_until_full": _variant("ReservoirSampler", (
            "        self.seen += 1\n        if len(self._items) < self.capacity:\n",
            "        if len(self._items) < self.capacity:\n            self.seen += 1\n")),
        "cheat_always_equal_list": _wrapped("ReservoirSampler", "_RealReservoir", '''
            class ReservoirSampler(_RealReservoir):
                @property
                def items(self):
                    return _EqList(self._items)
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant(
            "ReservoirSampler", ("self._rng.integers(0, self.seen)", "self._rng.integers(0, self.seen - 1)")),
    },
    "TrainingBuffer": {
        "non_str_target_raises": _variant("TrainingBuffer", ("        if not isinstance(target, str):\n            return False\n", "")),
        "target_not_cleaned": _variant("TrainingBuffer", ("        target = target.strip().lower()\n", "")),
        "accepts_unk_target": _variant("TrainingBuffer", ("target == self.vocab.unk or ", "")),
        "stores_raw_context": _variant("TrainingBuffer", ("example = (words, target)", "example = (list(context), target)")),
        "unbounded_recent_window": _variant("TrainingBuffer", ("deque(maxlen=recent_capacity)", "deque()")),
        "no_replay_in_training_set": _variant("TrainingBuffer", ("return list(self.recent) + self.replay.items", "return list(self.recent)")),
        "replay_offered_before_validation": _variant("TrainingBuffer", (
            "        words = normalize_context(context, self.vocab)\n",
            "        words = normalize_context(context, self.vocab)\n        self.replay.add((words, target))\n"),
            ("        self.replay.add(example)\n", "")),
        "drops_newest_when_full": _variant("TrainingBuffer", (
            "        self.recent.append(example)\n",
            "        if len(self.recent) < self.recent.maxlen:\n            self.recent.append(example)\n")),
        "mutates_callers_context": _variant("TrainingBuffer", (
            "        words = normalize_context(context, self.vocab)\n",
            "        context[:] = normalize_context(context, self.vocab)\n        words = context\n")),
        "cheat_always_equal_int": _wrapped("TrainingBuffer", "_RealBuffer", '''
            class TrainingBuffer(_RealBuffer):
                def add(self, context, target):
                    super().add(context, target)
                    return _EqInt(1)
                def training_set(self):
                    return _EqList(super().training_set())
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant("TrainingBuffer", ("target == self.vocab.unk or ", "")),
    },
    "should_retrain": {
        "data_check_before_cooldown": dedent('''
            def should_retrain(state, policy):
                if state["new_labels"] < policy["min_new_labels"]:
                    return False, "insufficient data"
                last = state["last_retrain_t"]
                if last is not None and state["t"] - last < policy["cooldown"]:
                    return False, "cooldown"
                if any(a["metric"] == "accuracy" and a["severity"] == "critical" for a in state["alerts"]):
                    return True, "accuracy alert"
                if state["consecutive_degraded"] >= policy["consecutive"]:
                    return True, "sustained degradation"
                if state["psi"] >= policy["psi_threshold"]:
                    return True, "data drift"
                return False, "stable"
        '''),
        "truthy_last_retrain_t": _variant("should_retrain", ("if last is not None and state", "if last and state")),
        "cooldown_inclusive": _variant("should_retrain", ('state["t"] - last < policy["cooldown"]', 'state["t"] - last <= policy["cooldown"]')),
        "any_accuracy_alert": _variant("should_retrain", ('alert["metric"] == "accuracy" and alert["severity"] == "critical"', 'alert["metric"] == "accuracy"')),
        "any_critical_alert": _variant("should_retrain", ('alert["metric"] == "accuracy" and alert["severity"] == "critical"', 'alert["severity"] == "critical"')),
        "consecutive_strict": _variant("should_retrain", ('state["consecutive_degraded"] >= policy["consecutive"]', 'state["consecutive_degraded"] > policy["consecutive"]')),
        "psi_strict": _variant("should_retrain", ('state["psi"] >= policy["psi_threshold"]', 'state["psi"] > policy["psi_threshold"]')),
        "crashes_before_first_retrain": _variant("should_retrain", ("if last is not None and state", "if state")),
        "min_labels_strict": _variant("should_retrain", ('state["new_labels"] < policy["min_new_labels"]', 'state["new_labels"] <= policy["min_new_labels"]')),
        "cheat_always_equal_tuple": ALWAYS_EQUAL + dedent('''
            def should_retrain(state, policy):
                return _EqTuple((True, _EqStr("accuracy alert")))
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant(
            "should_retrain", ('state["t"] - last < policy["cooldown"]', 'state["t"] - last <= policy["cooldown"]')),
    },
    "ModelRegistry": {
        "stores_the_callers_model": _variant("ModelRegistry", ("self._models[version] = model.copy()", "self._models[version] = model")),
        "shallow_copy": "import copy as _copy\n" + _variant("ModelRegistry", ("self._models[version] = model.copy()", "self._models[version] = _copy.copy(model)")),
        "get_hands_out_the_stored_model": _variant("ModelRegistry", ("return self._models[version].copy()", "return self._models[version]")),
        "champion_hands_out_the_stored_model": _variant("ModelRegistry", (
            "return self._models[self._champions[-1]].copy() if self._champions else None",
            "return self._models[self._champions[-1]] if self._champions else None")),
        "versions_from_zero": _variant("ModelRegistry", ("version = len(self._models) + 1", "version = len(self._models)")),
        "rollback_toggles_via_history": _variant("ModelRegistry", (
            "        self._champions.pop()\n        self.history.append(self._champions[-1])\n        return self._champions[-1]\n",
            "        previous = self.history[-2]\n        self._champions.append(previous)\n        self.history.append(previous)\n        return previous\n")),
        "rollback_without_previous_is_silent": _variant("ModelRegistry", (
            'raise RuntimeError("rollback: there is no previous champion to go back to")', "return self.champion_version")),
        "rollback_not_in_history": _variant("ModelRegistry", (
            "        self._champions.pop()\n        self.history.append(self._champions[-1])\n",
            "        self._champions.pop()\n")),
        "cheat_always_equal_int": _wrapped("ModelRegistry", "_RealRegistry", '''
            class ModelRegistry(_RealRegistry):
                def register(self, model, metrics):
                    return _EqInt(super().register(model, metrics))
                def rollback(self):
                    return _EqInt(1)
                @property
                def champion_version(self):
                    return _EqInt(1)
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant(
            "ModelRegistry", ("self._models[version] = model.copy()", "self._models[version] = model")),
    },
    "mcnemar_test": {
        "one_sided": _variant("mcnemar_test", ("min(1.0, 2.0 * tail)", "min(1.0, tail)")),
        "not_capped_at_one": _variant("mcnemar_test", ("min(1.0, 2.0 * tail)", "2.0 * tail")),
        "tail_excludes_min": _variant("mcnemar_test", ("range(min(b, c) + 1)", "range(min(b, c))")),
        "b_and_c_swapped": _variant("mcnemar_test", ("return b, c, float(min(1.0, 2.0 * tail))", "return c, b, float(min(1.0, 2.0 * tail))")),
        "counts_agreements": _variant("mcnemar_test", ("b = sum(1 for x, y in zip(a, b_) if x and not y)", "b = sum(1 for x, y in zip(a, b_) if x)")),
        "chi_square_approximation": _variant("mcnemar_test", (
            "    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n",
            "    tail = 1 - NormalDist().cdf(max(abs(b - c) - 1, 0) / math.sqrt(n))")),
        "numpy_integers": _variant("mcnemar_test", ("return b, c, float(", "return np.int64(b), np.int64(c), float(")),
        "no_length_check": _variant("mcnemar_test", ("    if len(a) != len(b_):\n", "    if False:\n")),
        "cheat_always_equal_tuple": ALWAYS_EQUAL + dedent('''
            def mcnemar_test(correct_a, correct_b):
                return _EqTuple((_EqInt(0), _EqInt(0), _EqFloat(1.0)))
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant("mcnemar_test", ("min(1.0, 2.0 * tail)", "min(1.0, tail)")),
    },
    "gate_challenger": {
        "margin_on_observed_delta": _variant("gate_challenger", (
            'elif upper_bound > policy["non_inferiority"]:', 'elif delta < -policy["non_inferiority"]:')),
        "no_upper_bound_rule": _variant("gate_challenger", ('elif upper_bound > policy["non_inferiority"]:', "elif False:")),
        "bound_before_significance": _variant("gate_challenger", (
            '    if b > c and p_value < policy["alpha"]:\n        reason = "significantly worse"\n'
            '    elif upper_bound > policy["non_inferiority"]:\n        reason = "not shown non-inferior"\n',
            '    if upper_bound > policy["non_inferiority"]:\n        reason = "not shown non-inferior"\n'
            '    elif b > c and p_value < policy["alpha"]:\n        reason = "significantly worse"\n')),
        "two_sided_alpha": _variant("gate_challenger", ('paired_upper_bound(b, c, n, policy["alpha"])',
                                                         'paired_upper_bound(b, c, n, policy["alpha"] / 2)')),
        "fixed_alpha_0_05": _variant("gate_challenger", ('paired_upper_bound(b, c, n, policy["alpha"])', "paired_upper_bound(b, c, n, 0.05)")),
        # the bound this gate used to have: [0, 0] at b = c = 0, too tight with few discordant pairs
        "wald_bound": _variant("gate_challenger", ('paired_upper_bound(b, c, n, policy["alpha"])',
                                                   '(b - c) / n + NormalDist().inv_cdf(1 - policy["alpha"]) * math.sqrt(max(((b + c) / n - ((b - c) / n) ** 2) / n, 0.0))')),
        "bound_on_challenger_minus_champion": _variant("gate_challenger", ('paired_upper_bound(b, c, n, policy["alpha"])',
                                                                           'paired_upper_bound(c, b, n, policy["alpha"])')),
        "margin_inclusive": _variant("gate_challenger", ('elif upper_bound > policy["non_inferiority"]:',
                                                         'elif upper_bound >= policy["non_inferiority"]:')),
        # a held-out comparison without statistics: promote iff the challenger is right at least as often
        "promote_iff_c_at_least_b": _variant("gate_challenger", (
            '    if b > c and p_value < policy["alpha"]:\n        reason = "significantly worse"\n'
            '    elif upper_bound > policy["non_inferiority"]:\n        reason = "not shown non-inferior"\n'
            '    elif delta < policy["min_gain"]:\n        reason = "no gain"\n',
            '    if c < b:\n        reason = "no gain"\n')),
        "empty_gate_promotes": _variant("gate_challenger", (
            '        return {"promote": False, "reason": "not shown non-inferior", "delta": 0.0, "p_value": 1.0,',
            '        return {"promote": True, "reason": "promote", "delta": 0.0, "p_value": 1.0,')),
        "significance_in_either_direction": _variant("gate_challenger", ('if b > c and p_value < policy["alpha"]:', 'if p_value < policy["alpha"]:')),
        "challenger_as_a": _variant("gate_challenger", (
            "mcnemar_test(correct_champion, correct_challenger)", "mcnemar_test(correct_challenger, correct_champion)")),
        "delta_reversed": _variant("gate_challenger", ("delta = (c - b) / n", "delta = (b - c) / n")),
        "no_gain_inclusive": _variant("gate_challenger", ('elif delta < policy["min_gain"]:', 'elif delta <= policy["min_gain"]:')),
        "delta_in_counts": _variant("gate_challenger", ("delta = (c - b) / n", "delta = float(c - b)")),
        "cheat_always_equal_dict": ALWAYS_EQUAL + dedent('''
            def gate_challenger(correct_champion, correct_challenger, policy):
                return _EqDict(promote=True, reason=_EqStr("promote"), delta=_EqFloat(0.0), p_value=_EqFloat(1.0),
                               upper_bound=_EqFloat(0.0))
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant("gate_challenger", ("delta = (c - b) / n", "delta = (b - c) / n")),
    },
    "required_sample_size": {
        "one_sided_alpha": _variant("required_sample_size", ("inv_cdf(1 - alpha / 2)", "inv_cdf(1 - alpha)")),
        "power_complement": _variant("required_sample_size", ("inv_cdf(power)", "inv_cdf(1 - power)")),
        "rounds_instead_of_ceil": _variant("required_sample_size", ("int(math.ceil(spread ** 2 / (p2 - p1) ** 2))", "int(round(spread ** 2 / (p2 - p1) ** 2))")),
        "baseline_variance_for_both": _variant("required_sample_size", ("math.sqrt(2 * p_bar * (1 - p_bar))", "math.sqrt(2 * p1 * (1 - p1))")),
        "returns_float": _variant("required_sample_size", ("return int(math.ceil(spread ** 2 / (p2 - p1) ** 2))", "return spread ** 2 / (p2 - p1) ** 2")),
        "mde_read_as_p2": _variant("required_sample_size", ("p1, p2 = p_baseline, p_baseline + mde", "p1, p2 = p_baseline, mde")),
        "z_alpha_without_sqrt2": _variant("required_sample_size", ("math.sqrt(2 * p_bar * (1 - p_bar))", "math.sqrt(p_bar * (1 - p_bar))")),
        "cheat_always_equal_int": ALWAYS_EQUAL + dedent('''
            def required_sample_size(p_baseline, mde, alpha=0.05, power=0.8):
                return _EqInt(388)
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant("required_sample_size", ("inv_cdf(1 - alpha / 2)", "inv_cdf(1 - alpha)")),
    },
    "ThompsonRouter": {
        "greedy_posterior_mean": _variant("ThompsonRouter", (
            "draws = self._rng.beta(1.0 + self._successes, 1.0 + self._failures)",
            "draws = (1.0 + self._successes) / (2.0 + self._successes + self._failures)")),
        "no_prior": _variant("ThompsonRouter", (
            "draws = self._rng.beta(1.0 + self._successes, 1.0 + self._failures)",
            "draws = self._rng.beta(np.maximum(self._successes, 1e-9), np.maximum(self._failures, 1e-9))")),
        "counts_on_choose": _variant("ThompsonRouter", ("        self.counts[arm] += 1\n", ""),
                                     ("        return int(np.argmax(draws))", "        arm = int(np.argmax(draws))\n        self.counts[arm] += 1\n        return arm")),
        "reward_swapped": _variant("ThompsonRouter", ("        if reward:\n", "        if not reward:\n")),
        "uniform_random": _variant("ThompsonRouter", (
            "return int(np.argmax(draws))", "return int(self._rng.integers(len(self.counts)))")),
        "counts_twice_per_pull": _variant("ThompsonRouter", (
            "        return int(np.argmax(draws))\n", "        arm = int(np.argmax(draws))\n        self.counts[arm] += 1\n        return arm\n")),
        "numpy_integer_arm": _variant("ThompsonRouter", ("return int(np.argmax(draws))", "return np.argmax(draws)")),
        "ignores_its_seed": _variant("ThompsonRouter", (
            "draws = self._rng.beta(1.0 + self._successes, 1.0 + self._failures)",
            "draws = np.random.default_rng().beta(1.0 + self._successes, 1.0 + self._failures)")),
        "prior_beta_2_2": _variant("ThompsonRouter", (
            "draws = self._rng.beta(1.0 + self._successes, 1.0 + self._failures)",
            "draws = self._rng.beta(2.0 + self._successes, 2.0 + self._failures)")),
        "cheat_always_equal_list": _wrapped("ThompsonRouter", "_RealRouter", '''
            class ThompsonRouter(_RealRouter):
                def choose(self):
                    return _EqInt(super().choose())
                def update(self, arm, reward):
                    super().update(arm, reward)
                    self.counts = _EqList(self.counts)
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant("ThompsonRouter", (
            "draws = self._rng.beta(1.0 + self._successes, 1.0 + self._failures)",
            "draws = (1.0 + self._successes) / (2.0 + self._successes + self._failures)")),
    },
    "run_capstone": {
        "gated_always_promotes": _variant("run_capstone", ('if system == "naive" or decision["promote"] or policy["drill_promote_all"]:', "if True:")),
        "never_retrains": _variant("run_capstone", ('if system == "never" or check is not None or event.t < next_check', 'if True or event.t < next_check')),
        "serves_challenger_before_the_gate": _variant("run_capstone", (
            '        champion_version, challenger, version = run.retrain(event.t, reason, seed=len(run.gates))\n',
            '        champion_version, challenger, version = run.retrain(event.t, reason, seed=len(run.gates))\n'
            '        run.table = prediction_table(challenger)\n')),
        "gate_arguments_swapped": _variant("run_capstone", (
            "decision = gate_challenger(champion_ok, challenger_ok, policy)", "decision = gate_challenger(challenger_ok, champion_ok, policy)")),
        "naive_gate_not_recorded": _variant("run_capstone", (
            '        run.gates.append({"t": event.t,', '        if system == "gated": run.gates.append({"t": event.t,')),
        "promotes_before_keeping_the_old_table": _variant("run_capstone", (
            '            check = (run.table, []) if system == "gated" else None      # the old champion\'s table, before promoting\n'
            '            run.promote(version, event.t, decision["reason"])\n',
            '            run.promote(version, event.t, decision["reason"])\n'
            '            check = (run.table, []) if system == "gated" else None\n')),
        "mutates_the_shared_policy": "CAPSTONE_POLICY = dict(CAPSTONE_POLICY)\n" + _variant("run_capstone", (
            "policy = {**CAPSTONE_POLICY, **(policy or {})}", "CAPSTONE_POLICY.update(policy or {})\n    policy = CAPSTONE_POLICY")),
        # the rollback step (issue 18): deleted, paired with the wrong labels, or abandoned by a later decision
        "rollback_check_deleted": _variant("run_capstone", (
            "if check is not None and label.held_out and run.serving[label.request_id] == run.registry.champion_version:", "if False:"),
            ('check = (run.table, []) if system == "gated" else None', "check = None")),
        "rollback_pairs_labels_the_previous_champion_served": _variant("run_capstone", (
            " and run.serving[label.request_id] == run.registry.champion_version:", ":")),
        "rollback_pairs_training_labels_too": _variant("run_capstone", (
            "if check is not None and label.held_out and", "if check is not None and")),
        # the drift trigger the capstone had before issue 18 (psi_threshold 0.3 on a 400-request window): noise
        "psi_trigger_kept": _variant("run_capstone", ('policy = {**CAPSTONE_POLICY, **(policy or {})}',
                                                      'policy = {**CAPSTONE_POLICY, "psi_threshold": 0.3, **(policy or {})}')),
        "decides_while_a_check_is_pending": _variant("run_capstone", (
            'if system == "never" or check is not None or event.t < next_check', 'if system == "never" or event.t < next_check')),
        "drill_flag_ignored": _variant("run_capstone", (
            'if system == "naive" or decision["promote"] or policy["drill_promote_all"]:', 'if system == "naive" or decision["promote"]:')),
        # the three details the statement asks to follow exactly (issue 19): each has its own hidden cell
        "training_seed_zero": _variant("run_capstone", ("run.retrain(event.t, reason, seed=len(run.gates))", "run.retrain(event.t, reason, seed=0)")),
        "labels_credited_to_the_current_champion": _variant("run_capstone", (
            "run.monitor.observe_label(label.correct, int(run.serving[label.request_id]))",
            "run.monitor.observe_label(label.correct, run.registry.champion_version)")),
        "next_check_incremented": _variant("run_capstone", (
            'next_check = event.t + policy["check_every"]', 'next_check += policy["check_every"]')),
        "cheat_always_equal_dict": _wrapped("run_capstone", "_real_run_capstone", '''
            def run_capstone(stream, base_model, system="gated", policy=None):
                return _EqDict(_real_run_capstone(stream, base_model, system, policy))
        '''),
        "cheat_patched_comparisons": PATCH_COMPARISONS + _variant("run_capstone", ('if system == "naive" or decision["promote"] or policy["drill_promote_all"]:', "if True:")),
    },
}


# Realistic slips a careful reader of the statement could still make (issue 10, item 14), each with the hidden
# test cell (the behaviour's own cell) in which it must lose its points.
SLIPS = {
    ("should_retrain", "truthy_last_retrain_t"): "test_should_retrain_hidden_time_zero",
    ("should_retrain", "cooldown_inclusive"): "test_should_retrain_hidden_boundaries",
    ("should_retrain", "data_check_before_cooldown"): "test_should_retrain_hidden_order_and_alerts",
    ("TrainingBuffer", "non_str_target_raises"): "test_TrainingBuffer_hidden_non_str_target",
    ("TrainingBuffer", "accepts_unk_target"): "test_TrainingBuffer_hidden_rejects",
    ("TrainingBuffer", "mutates_callers_context"): "test_TrainingBuffer_hidden_inputs_untouched",
    ("TrainingBuffer", "no_replay_in_training_set"): "test_TrainingBuffer_hidden_window_and_replay",
    ("ReservoirSampler", "j_range_off_by_one"): "test_ReservoirSampler_hidden_uniform",
    ("ModelRegistry", "get_hands_out_the_stored_model"): "test_ModelRegistry_hidden_copies",
    ("ModelRegistry", "rollback_toggles_via_history"): "test_ModelRegistry_hidden_rollback",
    ("mcnemar_test", "not_capped_at_one"): "test_mcnemar_test_hidden_p_value",
    ("mcnemar_test", "no_length_check"): "test_mcnemar_test_hidden_types_and_lengths",
    ("gate_challenger", "significance_in_either_direction"): "test_gate_challenger_hidden_rule_order",
    ("gate_challenger", "empty_gate_promotes"): "test_gate_challenger_hidden_edge_cases",
    ("gate_challenger", "bound_before_significance"): "test_gate_challenger_hidden_rule_order",
    ("gate_challenger", "two_sided_alpha"): "test_gate_challenger_hidden_bound",
    ("gate_challenger", "margin_inclusive"): "test_gate_challenger_hidden_bound",
    ("gate_challenger", "wald_bound"): "test_gate_challenger_hidden_bound",
    ("gate_challenger", "promote_iff_c_at_least_b"): "test_gate_challenger_hidden_bound",
    ("ThompsonRouter", "counts_on_choose"): "test_ThompsonRouter_hidden_counts",
    ("ThompsonRouter", "no_prior"): "test_ThompsonRouter_hidden_posterior",
    ("run_capstone", "mutates_the_shared_policy"): "test_run_capstone_hidden_shared_policy",
    ("run_capstone", "psi_trigger_kept"): "test_run_capstone_hidden_shared_policy",
    ("run_capstone", "rollback_check_deleted"): "test_run_capstone_hidden_rollback",
    ("run_capstone", "rollback_pairs_labels_the_previous_champion_served"): "test_run_capstone_hidden_rollback",
    ("run_capstone", "rollback_pairs_training_labels_too"): "test_run_capstone_hidden_rollback",
    ("run_capstone", "decides_while_a_check_is_pending"): "test_run_capstone_hidden_rollback",
    ("run_capstone", "training_seed_zero"): "test_run_capstone_hidden_training_seed",
    ("run_capstone", "labels_credited_to_the_current_champion"): "test_run_capstone_hidden_label_credit",
    ("run_capstone", "next_check_incremented"): "test_run_capstone_hidden_decision_times",
    ("ThompsonRouter", "ignores_its_seed"): "test_ThompsonRouter_hidden_seed",
}

# A slip of item 14 that no test cell can see, and why: `ReservoirSampler.items` returning the internal list
# (so a caller that appends to the result changes the reservoir). Under the judge the sandbox encodes every
# value it returns as plain data (course_sandbox.wire.encode turns a list into a new list, "$l"); only objects
# the judge itself sent keep their identity ("$j"). A test cell therefore always receives a copy of `items`,
# and no code in the sandbox other than the student's own ever reads `items` and mutates what it gets (the
# reference TrainingBuffer builds a new list from it), so the aliasing has no effect a test can observe. The
# statement still asks for a list the caller may keep; the mutant below is kept out of MUTANTS on purpose.
UNTESTABLE = {
    ("ReservoirSampler", "items_returns_the_internal_list"): _variant(
        "ReservoirSampler", ("return list(self._items)", "return self._items")),
}

# Correct implementations written differently from the reference: every one must keep every point.
# Hidden tests must judge the contract, not the reference's way of meeting it.
ALTERNATIVES = {
    "ReservoirSampler": {
        "probability_then_slot": dedent('''
            class ReservoirSampler:
                def __init__(self, capacity, seed=0):
                    self.capacity = capacity
                    self.rng = np.random.default_rng(seed)
                    self.items = []          # a plain attribute: the contract only asks for a list
                    self.seen = 0
                def add(self, item):
                    self.seen = self.seen + 1
                    if len(self.items) < self.capacity:
                        self.items.append(item)
                    elif self.rng.random() < self.capacity / self.seen:
                        self.items[int(self.rng.integers(self.capacity))] = item
        '''),
    },
    "TrainingBuffer": {
        "list_window_and_own_reservoir": dedent('''
            class TrainingBuffer:
                def __init__(self, vocab, recent_capacity=500, replay_capacity=500, seed=0):
                    self.vocab, self.capacity = vocab, recent_capacity
                    self.window = []
                    self.reservoir = ReservoirSampler(replay_capacity, seed)
                def add(self, context, target):
                    cleaned = normalize_context(list(context), self.vocab)
                    word = target.strip().lower() if isinstance(target, str) else ""
                    real_words = set(self.vocab.words[1:])
                    if len(cleaned) == 0 or word not in real_words:
                        return False
                    self.window = (self.window + [(cleaned, word)])[-self.capacity:]
                    self.reservoir.add((list(cleaned), word))
                    return True
                def training_set(self):
                    return [*self.window, *self.reservoir.items]
                def __len__(self):
                    return len(self.window)
        '''),
    },
    "should_retrain": {
        "rule_table": dedent('''
            def should_retrain(state, policy):
                last = state.get("last_retrain_t")
                rules = [
                    (last is not None and state["t"] - last < policy["cooldown"], False, "cooldown"),
                    (state["new_labels"] < policy["min_new_labels"], False, "insufficient data"),
                    ([a for a in state["alerts"] if (a["metric"], a["severity"]) == ("accuracy", "critical")] != [], True, "accuracy alert"),
                    (not state["consecutive_degraded"] < policy["consecutive"], True, "sustained degradation"),
                    (not state["psi"] < policy["psi_threshold"], True, "data drift"),
                ]
                for applies, decision, reason in rules:
                    if applies:
                        return (decision, reason)
                return (False, "stable")
        '''),
    },
    "ModelRegistry": {
        "deepcopy_and_log": dedent('''
            import copy as _copy
            class ModelRegistry:
                def __init__(self):
                    self.store, self.stack, self.history = [], [], []
                def register(self, model, metrics):
                    self.store.append((_copy.deepcopy(model), _copy.deepcopy(metrics)))
                    return len(self.store)
                def get(self, version):
                    return _copy.deepcopy(self.store[version - 1][0])
                def promote(self, version):
                    self.stack.append(version)
                    self.history.append(version)
                def champion(self):
                    return self.get(self.stack[-1]) if self.stack else None
                @property
                def champion_version(self):
                    return self.stack[-1] if self.stack else None
                def rollback(self):
                    if len(self.stack) <= 1:
                        raise RuntimeError("nothing to roll back to")
                    del self.stack[-1]
                    self.history.append(self.stack[-1])
                    return self.stack[-1]
        '''),
    },
    "mcnemar_test": {
        "numpy_counts_and_lower_tail": dedent('''
            def mcnemar_test(correct_a, correct_b):
                a, b_arr = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
                if a.shape != b_arr.shape:
                    raise ValueError("lengths differ")
                b = int(np.count_nonzero(a & ~b_arr))
                c = int(np.count_nonzero(~a & b_arr))
                if b + c == 0:
                    return (b, c, 1.0)
                k = min(b, c)
                lower = 0.0
                for i in range(k + 1):
                    lower += math.comb(b + c, i) * 0.5 ** (b + c)
                return (b, c, float(min(1.0, 2 * lower)))
        '''),
    },
    "gate_challenger": {
        "numpy_counts_and_own_rule_chain": dedent('''
            def gate_challenger(correct_champion, correct_challenger, policy):
                champ = np.asarray(correct_champion, dtype=bool)
                chall = np.asarray(correct_challenger, dtype=bool)
                b, c, p = mcnemar_test(champ, chall)
                if champ.size == 0:
                    return {"promote": False, "reason": "not shown non-inferior", "delta": 0.0, "p_value": 1.0,
                            "upper_bound": math.inf}
                bound = paired_upper_bound(int(np.sum(champ & ~chall)), int(np.sum(chall & ~champ)), int(champ.size),
                                           policy["alpha"])
                delta = float(chall.mean() - champ.mean())
                checks = [(b > c and p < policy["alpha"], "significantly worse"),
                          (not bound <= policy["non_inferiority"], "not shown non-inferior"),
                          (not delta >= policy["min_gain"], "no gain")]
                reason = next((why for failed, why in checks if failed), "promote")
                return {"promote": reason == "promote", "reason": reason, "delta": delta, "p_value": float(p),
                        "upper_bound": float(bound)}
        '''),
    },
    "required_sample_size": {
        "expanded_formula": dedent('''
            def required_sample_size(p_baseline, mde, alpha=0.05, power=0.8):
                normal = NormalDist(mu=0.0, sigma=1.0)
                p1 = p_baseline
                p2 = p1 + mde
                mean_p = 0.5 * (p1 + p2)
                first = normal.inv_cdf(1.0 - 0.5 * alpha) * (2.0 * mean_p * (1.0 - mean_p)) ** 0.5
                second = normal.inv_cdf(power) * (p1 * (1.0 - p1) + p2 * (1.0 - p2)) ** 0.5
                return math.ceil((first + second) * (first + second) / (mde * mde))
        '''),
    },
    "ThompsonRouter": {
        "per_arm_draws_in_python": dedent('''
            class ThompsonRouter:
                def __init__(self, n_arms, seed=0):
                    self.rng = np.random.default_rng(seed)
                    self.wins = [0] * n_arms
                    self.losses = [0] * n_arms
                    self.counts = [0] * n_arms
                def choose(self):
                    draws = [self.rng.beta(1 + w, 1 + l) for w, l in zip(self.wins, self.losses)]
                    return max(range(len(draws)), key=draws.__getitem__)
                def update(self, arm, reward):
                    self.counts[arm] = self.counts[arm] + 1     # the statement: update() counts a pull
                    if reward:
                        self.wins[arm] += 1
                    else:
                        self.losses[arm] += 1
        '''),
    },
    "run_capstone": {
        "separate_check_state_and_helpers": dedent('''
            def run_capstone(stream, base_model, system="gated", policy=None):
                settings = dict(CAPSTONE_POLICY)
                settings.update(policy or {})
                run = CapstoneRun(stream, base_model, settings)
                last_retrain, next_check = None, settings["check_every"]
                pending_pairs, old_table = None, None
                for event in stream.events():
                    if event.kind != "feedback":
                        run.serve(event)
                        continue
                    label = run.label(event)
                    served_by = run.serving[label.request_id]
                    run.monitor.observe_label(label.correct, served_by)
                    if pending_pairs is not None and label.held_out and served_by == run.registry.champion_version:
                        pending_pairs.append((label.correct, run.answer(old_table, label.word_id) == label.target))
                        if len(pending_pairs) == settings["rollback_labels"]:
                            b, c, p = mcnemar_test([n for n, _ in pending_pairs], [o for _, o in pending_pairs])
                            if c > b and p < settings["alpha"]:
                                restored = run.registry.rollback()
                                run.switch_to(restored)
                                run.events.append(dict(t=event.t, kind="rollback", version=restored, reason="live check"))
                            pending_pairs = None
                    if system == "never" or pending_pairs is not None:
                        continue
                    if event.t < next_check or not run.monitor.ready():
                        continue
                    next_check = event.t + settings["check_every"]
                    retrain, why = should_retrain(run.monitor.state(event.t, last_retrain, run.new_labels), settings)
                    if not retrain:
                        continue
                    old_version = run.registry.champion_version
                    challenger = run.registry.get(old_version)
                    run.train(challenger, seed=len(run.gates))      # retrain() written out: the same steps
                    new_version = run.registry.register(challenger, {"why": why})
                    run.events.append(dict(t=event.t, kind="retrain", version=new_version, reason=why))
                    last_retrain = event.t
                    run.new_labels = 0
                    ok_old, ok_new, ids = run.gate_correctness(old_version, challenger)
                    verdict = gate_challenger(ok_old, ok_new, settings)
                    run.gates.append(dict(verdict, t=event.t, champion=old_version, challenger=new_version, gate_ids=ids))
                    if verdict["promote"] or system == "naive" or settings["drill_promote_all"]:
                        old_table = run.table
                        run.registry.promote(new_version)
                        run.switch_to(new_version)
                        run.events.append(dict(t=event.t, kind="promote", version=new_version, reason=verdict["reason"]))
                        pending_pairs = [] if system == "gated" else None
                    else:
                        run.events.append(dict(t=event.t, kind="reject", version=new_version, reason=verdict["reason"]))
                return run.record(system)
        '''),
    },
}
