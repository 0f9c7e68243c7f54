"""Wrong implementations of the graded functions of assignment 1 (01_testing); every one must lose points.

``MUTANTS[graded_name][mutant_name]`` is source code that replaces the solution cell ``graded_name`` of
``source/01_testing/01_testing.ipynb``. Each plausible mistake (off-by-one, missing edge case, wrong
formula variant, ...) is the reference solution with that one mistake edited in (an edit fails loudly
if the reference no longer holds the text it replaces). Each graded name also has the two shared
cheats of ``cheats.py``.
"""

from textwrap import dedent

from reference import Reference

from cheats import always_equal, patched_comparisons  # noqa: E402 (tests/mutants is on sys.path when a corpus loads)

REFERENCE = Reference("01_testing")


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


def _edits(name: str):
    """Edits of the reference solution ``name``, given as flat pairs: ``_edits(name)(old, new, old2, new2, ...)``."""
    return lambda *pairs: REFERENCE.edit(name, *zip(pairs[::2], pairs[1::2]))


_normalize_variant = _edits("normalize_context")
_TYPE_ERROR = 'raise TypeError(f"every word must be a str, got {type(item).__name__}: {item!r}")'
_KEEP_LAST = "words[-max_len:] if max_len > 0 else []"
_LOOP = "    words = []\n    for item in context:"
_TRUNCATE_FIRST = "    if max_len is not None:\n        context = list(context)[-max_len:] if max_len > 0 else []\n"

NORMALIZE_CONTEXT = {
    "no_lowercase": _normalize_variant("word = item.strip().lower()", "word = item.strip()"),
    "no_strip": _normalize_variant("word = item.strip().lower()\n        if word:", "word = item.lower()\n        if word.strip():"),
    "empty_words_become_unk": _normalize_variant("        if word:\n            words.append(", "        words.append("),
    "drops_unknown_words": _normalize_variant("if word:\n            words.append(word if word in vocab else vocab.unk)",
                                              "if word and word in vocab:\n            words.append(word)"),
    "max_len_zero_keeps_everything": _normalize_variant(_KEEP_LAST, "words[-max_len:]"),
    "keeps_first_max_len_words": _normalize_variant(_KEEP_LAST, "words[:max_len]"),
    "truncates_before_dropping_empty": _normalize_variant(
        _LOOP, f"    for item in context:\n        if not isinstance(item, str):\n            {_TYPE_ERROR}\n" + _TRUNCATE_FIRST + _LOOP),
    "mutates_input_in_place": _normalize_variant("    return words", "    context[:] = words\n    return context"),
    "skips_non_str_items": _normalize_variant(_TYPE_ERROR, "continue"),
    "type_check_only_on_kept_words": _normalize_variant(_LOOP, _TRUNCATE_FIRST + _LOOP),
    "hardcoded_unk_string": _normalize_variant("else vocab.unk)", 'else "<unk>")'),
    "cheat_always_equal_list": always_equal('''
        def normalize_context(context, vocab, max_len=None):
            return _EqList()
    '''),
    "cheat_always_equal_str_items": always_equal('''
        def normalize_context(context, vocab, max_len=None):
            for item in context:
                if not isinstance(item, str):
                    raise TypeError("not a str")
            return [_EqStr("x") for item in context if item.strip()]
    '''),
    "cheat_patched_comparisons": patched_comparisons(_src('''
        def normalize_context(context, vocab, max_len=None):
            return [str(w).lower() for w in context]
    ''')),
}




_safe_variant = _edits("safe_predict")
SAFE_PREDICT = {
    "does_not_normalize": _safe_variant(
        '''        words = normalize_context(context, vocab)
    except TypeError''',
        '''        words = [w for w in context if w.strip()]
    except (TypeError, AttributeError)'''),
    "does_not_catch_model_errors": _safe_variant(
        '''    try:
        word, confidence = model.predict(words)
        confidence = float(confidence)
    except Exception as exc:
        return vocab.unk, 0.0, f"model error: {type(exc).__name__}: {exc}"
''',
        '''    word, confidence = model.predict(words)
    confidence = float(confidence)
'''),
    "catches_only_value_error": _safe_variant(
        'except Exception as exc:\n        return vocab.unk, 0.0, f"model error: {type(exc).__name__}: {exc}"',
        'except ValueError as exc:\n        return vocab.unk, 0.0, f"model error: {type(exc).__name__}: {exc}"'),
    "no_finite_check": _safe_variant(
        '''    if not math.isfinite(confidence):
        return vocab.unk, 0.0, f"non-finite confidence: {confidence}"
''', ''),
    "only_nan_checked": _safe_variant('if not math.isfinite(confidence):', 'if math.isnan(confidence):'),
    "keeps_numpy_float": _safe_variant(
        '        confidence = float(confidence)\n', ''),
    "calls_model_on_empty_context": _safe_variant(
        '''    if not words:
        return vocab.unk, 0.0, "empty context"
''', ''),
    "hardcoded_unk_string": _safe_variant("vocab.unk, 0.0", '"<unk>", 0.0'),
    "returns_list": _safe_variant('return word, confidence\n', 'return [word, confidence]\n'),
    "non_str_item_raises": _safe_variant(
        '''    try:
        words = normalize_context(context, vocab)
    except TypeError as exc:
        return vocab.unk, 0.0, f"bad input: {exc}"
''', '''    words = normalize_context(context, vocab)
'''),
    "no_clipping": _safe_variant('return word, min(max(confidence, 0.0), 1.0), None', 'return word, confidence, None'),
    "out_of_range_confidence_falls_back": _safe_variant(
        'if not math.isfinite(confidence):', 'if not math.isfinite(confidence) or not 0.0 <= confidence <= 1.0:'),
    "reason_empty_string_on_fallback": _safe_variant('"empty context"', '""'),
    # a realistic slip: the reason is the exception's own message, empty for RuntimeError()
    "reason_is_the_bare_exception_message": _safe_variant('f"model error: {type(exc).__name__}: {exc}"', 'str(exc)'),
    "reason_none_on_model_error": _safe_variant('f"model error: {type(exc).__name__}: {exc}"', 'None'),
    "real_answer_has_a_reason": _safe_variant('min(max(confidence, 0.0), 1.0), None', 'min(max(confidence, 0.0), 1.0), "ok"'),
    "cheat_always_equal_tuple": always_equal('''
        def safe_predict_with_reason(model, context, vocab):
            return _EqTuple(("the", 0.5, None))

        def safe_predict(model, context, vocab):
            return _EqTuple(("the", 0.5))
    '''),
    "cheat_patched_comparisons": patched_comparisons(_src('''
        def safe_predict_with_reason(model, context, vocab):
            try:
                return (*model.predict(context), None)
            except Exception:
                return (vocab.unk, 0.0, "error")

        def safe_predict(model, context, vocab):
            return safe_predict_with_reason(model, context, vocab)[:2]
    ''')),
}




_suite_variant = _edits("run_test_suite")
RUN_TEST_SUITE = {
    # realistic slips: kinds matched case-insensitively; a real <unk> answer taken for a fallback
    "kind_matched_case_insensitively": _suite_variant(
        '        kind = case.get("kind") if isinstance(case, dict) else None\n',
        '        kind = case.get("kind") if isinstance(case, dict) else None\n'
        '        kind = kind.lower() if isinstance(kind, str) else kind\n').replace(
        '"kind": kind, "passed"', '"kind": case.get("kind"), "passed"'),
    "unk_answer_taken_for_a_fallback": _suite_variant(
        '        if fallback is not None:\n', '        if fallback is not None or word == vocab.unk:\n'),
    "empty_suite_returns_zero_report": _suite_variant(
        'raise ValueError("the suite is empty: a run that tests nothing must not look green")', 'return {"passed": 0, "failed": 0, "errors": 0, "details": []}'),
    "empty_suite_divides_by_zero": _suite_variant(
        'raise ValueError("the suite is empty: a run that tests nothing must not look green")', 'rate = 0 / len(suite)'),
    "unknown_kind_counts_as_failed": _suite_variant(
        '            else:\n                raise ValueError(f"unknown kind {kind!r}: expected \'mft\', \'inv\' or \'dir\'")',
        '            else:\n                ok = False'),
    "dir_not_strict": _suite_variant(
        'ok = p_after > p_before if direction == "up" else p_after < p_before',
        'ok = p_after >= p_before if direction == "up" else p_after <= p_before'),
    "dir_reversed": _suite_variant(
        'ok = p_after > p_before if direction == "up" else p_after < p_before',
        'ok = p_after < p_before if direction == "up" else p_after > p_before'),
    "dir_without_normalizing": _suite_variant(
        '''        words = normalize_context(context, vocab)
        if not words:''',
        '''        words = list(context)
        if not words:'''),
    "dir_any_other_direction_means_down": _suite_variant(
        '                if direction not in ("up", "down"):\n                    raise ValueError(f"direction must be \'up\' or \'down\', got {direction!r}")\n',
        ''),
    "mft_calls_model_directly": _suite_variant(
        'word, confidence = answer(case["context"])',
        'word, confidence = model.predict(case["context"])'),
    "inv_calls_model_directly": _suite_variant(
        'before, _ = answer(case["context"])\n'
        '                after, _ = answer(case["perturbed"])',
        'before, _ = model.predict(normalize_context(case["context"], vocab))\n'
        '                after, _ = model.predict(normalize_context(case["perturbed"], vocab))'),
    "errors_also_counted_as_failed": _suite_variant(
        'counts["errors"] += 1', 'counts["errors"] += 1\n            counts["failed"] += 1'),
    "exceptions_not_caught": _suite_variant(
        '        except Exception as exc:\n', '        except ZeroDivisionError as exc:\n'),
    "errors_dropped_from_details": _suite_variant(
        '            details.append({"name": name, "kind": kind, "passed": False,\n'
        '                            "reason": f"error: {type(exc).__name__}: {exc}"})\n', ''),
    "passed_flag_not_bool": _suite_variant('"passed": bool(ok)', '"passed": int(ok)'),
    # the realistic slips of issue 10: a fallback or bad test data treated as an answer
    "fallbacks_count_as_answers": _suite_variant(
        '''        if fallback is not None:
            raise RuntimeError(f"the model could not answer {list(context)!r}: {fallback}")
''', ''),
    "fallback_only_checked_before_the_perturbation": _suite_variant(
        '                after, _ = answer(case["perturbed"])',
        '                after, _ = safe_predict(model, case["perturbed"], vocab)'),
    "nan_probability_is_a_failure": _suite_variant(
        '''        if not math.isfinite(value):
            raise ValueError(f"the probability of {word!r} after {words} is {value}")
''', ''),
    "mft_expected_words_not_checked_against_vocab": _suite_variant(
        '''                if not any(real_word(word) for word in expected):
                    raise ValueError(f"bad test data: no expected word of {list(case['expected'])} is in the vocabulary")
''', ''),
    "unk_counts_as_a_real_word": _suite_variant(
        'return word if word in vocab and word != vocab.unk else None', 'return word if word in vocab else None'),
    "dir_word_not_checked_against_vocab": _suite_variant(
        'case_word, direction = real_word(case["word"]), case["direction"]',
        'case_word, direction = case["word"].strip().lower(), case["direction"]'),
    "expected_words_not_normalized": _suite_variant(
        'expected = [word.strip().lower() for word in case["expected"]]', 'expected = list(case["expected"])'),
    "error_reason_without_prefix": _suite_variant('"reason": f"error: {type(exc).__name__}: {exc}"', '"reason": str(exc)'),
    "cheat_always_equal_dict": always_equal('''
        def run_test_suite(model, suite, vocab):
            return _EqDict(passed=_EqInt(0), failed=_EqInt(0), errors=_EqInt(0), details=_EqList())
    '''),
    "cheat_always_equal_int_counts": always_equal(_suite_variant(
        'return {**counts, "details": details}',
        'return {"passed": _EqInt(1), "failed": _EqInt(1), "errors": _EqInt(0), "details": _EqList(details)}')),
    "cheat_patched_comparisons": patched_comparisons(_suite_variant(
        'ok = before == after', 'ok = True')),
}




_gradient_variant = _edits("gradient_check")
GRADIENT_CHECK = {
    "forward_difference": _gradient_variant(
        '            values[index] = original - eps\n            loss_minus = model.loss(word_ids, target_ids)\n',
        '            values[index] = original\n            loss_minus = model.loss(word_ids, target_ids)\n'
    ).replace("/ (2 * eps)", "/ eps"),
    "no_floor_in_denominator": _gradient_variant(
        'max(1e-6, abs(a) + abs(numeric))', '(abs(a) + abs(numeric) + 1e-12)'),
    "max_instead_of_sum_in_denominator": _gradient_variant(
        'max(1e-6, abs(a) + abs(numeric))', 'max(1e-6, abs(a), abs(numeric))'),
    "floor_on_the_error_not_the_denominator": _gradient_variant(
        'abs(a - numeric) / max(1e-6, abs(a) + abs(numeric))',
        'max(0.0, abs(a - numeric) - 1e-6) / max(1e-12, abs(a) + abs(numeric))'),
    "mean_instead_of_max": _gradient_variant(
        '    worst = 0.0\n', '    worst = 0.0\n    errors = []\n').replace(
        'worst = max(worst, error)', 'errors.append(error)').replace(
        'return float(worst)', 'return float(np.mean(errors))'),
    "hardcoded_eps": _gradient_variant('def gradient_check(model, word_ids, target_ids, eps=1e-5):',
                                       'def gradient_check(model, word_ids, target_ids, eps=1e-5):\n    eps = 1e-5'),
    "restores_by_adding_eps_back": _gradient_variant(
        '            values[index] = original\n            numeric',
        '            values[index] += eps\n            numeric'),
    "perturbs_by_arithmetic": _gradient_variant(
        '            values[index] = original + eps\n', '            values[index] += eps\n').replace(
        '            values[index] = original - eps\n', '            values[index] -= 2 * eps\n').replace(
        '            values[index] = original\n            numeric', '            values[index] += eps\n            numeric'),
    "does_not_restore": _gradient_variant(
        '            values[index] = original\n            numeric', '            numeric'),
    "only_first_ten_entries_per_array": _gradient_variant(
        'for index in np.ndindex(values.shape):', 'for index in list(np.ndindex(values.shape))[:10]:'),
    "only_weight_matrices": _gradient_variant(
        '        grad = analytic[name]\n', '        if name not in ("W1", "W2"):\n            continue\n'
        '        grad = analytic[name]\n'),
    "returns_numpy_float": _gradient_variant('return float(worst)', 'return np.float64(worst)'),
    "cheat_always_equal_float": always_equal('''
        def gradient_check(model, word_ids, target_ids, eps=1e-5):
            return _EqFloat(0.0)
    '''),
    "cheat_patched_comparisons": patched_comparisons(_gradient_variant(
        'max(1e-6, abs(a) + abs(numeric))', 'max(1e-6, abs(a), abs(numeric))')),
}




_evaluate_variant = _edits("evaluate")
EVALUATE = {
    # a realistic slip: k = 0 is not refused (top-0 accuracy 0.0 here; 1.0 in other implementations)
    "k_below_one_accepted": _evaluate_variant('    if k < 1:\n        raise ValueError(f"k must be at least 1, got {k!r}")\n', ''),
    "contexts_not_normalized": _evaluate_variant(
        'words = normalize_context(context, vocab)', 'words = [w for w in context if w]'),
    "targets_not_normalized": _evaluate_variant(
        'target_ids.append(vocab.encode(target_words[0]) if target_words else 0)', 'target_ids.append(vocab.encode(target))'),
    "first_word_instead_of_last": _evaluate_variant('vocab.encode(words[-1])', 'vocab.encode(words[0])'),
    "top_k_off_by_one": _evaluate_variant('ranking[:, :k]', 'ranking[:, :k + 1]'),
    "top_k_least_probable": _evaluate_variant('ranking[:, :k] ==', 'ranking[:, -k:] =='),
    "confidence_of_target": _evaluate_variant(
        'confidence = float(np.sum(probs.max(axis=1)))',
        'confidence = float(np.sum(probs[np.arange(len(targets)), targets]))'),
    "numpy_floats": _evaluate_variant(
        '"accuracy": hits / n, "top_k_accuracy": top_hits / n, "mean_confidence": confidence / n',
        '"accuracy": np.float64(hits / n), "top_k_accuracy": np.float64(top_hits / n), '
        '"mean_confidence": np.float64(confidence / n)'),
    "empty_returns_zeros": _evaluate_variant(
        'raise ValueError("no examples: accuracy of nothing is undefined")',
        'return {"n": 0, "accuracy": 0.0, "top_k_accuracy": 0.0, "mean_confidence": 0.0}'),
    "ignores_k": _evaluate_variant('ranking[:, :k]', 'ranking[:, :3]'),
    "accuracy_copy_pasted_from_top_k": _evaluate_variant(
        'hits = int(np.sum(ranking[:, 0] == targets))', 'hits = int(np.sum(ranking[:, :k] == targets[:, None]))'),
    "mean_confidence_over_correct_only": _evaluate_variant(
        'confidence = float(np.sum(probs.max(axis=1)))',
        'confidence = float(np.sum(probs.max(axis=1)[ranking[:, 0] == targets]))'),
    "cheat_always_equal_dict": always_equal('''
        def evaluate(model, examples, vocab, k=3):
            if len(examples) == 0:
                raise ValueError("no examples")
            return _EqDict(n=_EqInt(len(examples)), accuracy=_EqFloat(0.6), top_k_accuracy=_EqFloat(0.9),
                           mean_confidence=_EqFloat(0.5))
    '''),
    "cheat_patched_comparisons": patched_comparisons(_evaluate_variant('ranking[:, :k]', 'ranking[:, :k + 1]')),
}




_ece_variant = _edits("expected_calibration_error")
EXPECTED_CALIBRATION_ERROR = {
    "bins_of_width_one_over_n_minus_one": _ece_variant(
        'np.floor(conf * n_bins)', 'np.floor(conf * (n_bins - 1))'),
    "round_instead_of_floor": _ece_variant('np.floor(conf * n_bins)', 'np.round(conf * n_bins)'),
    "confidence_one_dropped": _ece_variant(
        'bins = np.minimum(np.floor(conf * n_bins).astype(int), n_bins - 1)', 'bins = np.floor(conf * n_bins).astype(int)'),
    "unweighted_mean_over_bins": _ece_variant(
        '    ece = 0.0\n', '    ece = 0.0\n    gaps = []\n').replace(
        'ece += count / conf.size * abs(hits[in_bin].mean() - conf[in_bin].mean())',
        'gaps.append(abs(hits[in_bin].mean() - conf[in_bin].mean()))').replace(
        'return float(ece)', 'return float(np.mean(gaps))'),
    "signed_gap": _ece_variant(
        'abs(hits[in_bin].mean() - conf[in_bin].mean())', '(hits[in_bin].mean() - conf[in_bin].mean())'),
    "ignores_n_bins": _ece_variant('    conf = np.asarray', '    n_bins = 10\n    conf = np.asarray'),
    "digitize_with_linspace_edges": _ece_variant(
        'bins = np.minimum(np.floor(conf * n_bins).astype(int), n_bins - 1)',
        'bins = np.minimum(np.digitize(conf, np.linspace(0, 1, n_bins + 1)[1:-1], right=True), n_bins - 1)'),
    "zip_truncates_mismatched_lengths": _ece_variant(
        'if conf.size == 0 or conf.size != hits.size:', 'size = min(conf.size, hits.size)\n'
        '    conf, hits = conf[:size], hits[:size]\n    if conf.size == 0:'),
    "global_gap_not_binned": _ece_variant(
        '    bins = np.minimum', '    return float(abs(hits.mean() - conf.mean()))\n    bins = np.minimum'),
    "returns_numpy_float": _ece_variant('return float(ece)', 'return np.float64(ece)'),
    "cheat_always_equal_float": always_equal('''
        def expected_calibration_error(confidences, correct, n_bins=10):
            if len(confidences) == 0 or len(confidences) != len(correct):
                raise ValueError("bad input")
            return _EqFloat(0.0)
    '''),
    "cheat_patched_comparisons": patched_comparisons(_ece_variant(
        'abs(hits[in_bin].mean() - conf[in_bin].mean())', '(hits[in_bin].mean() - conf[in_bin].mean())')),
}

MUTANTS = {
    "normalize_context": NORMALIZE_CONTEXT,
    "safe_predict": SAFE_PREDICT,
    "run_test_suite": RUN_TEST_SUITE,
    "gradient_check": GRADIENT_CHECK,
    "evaluate": EVALUATE,
    "expected_calibration_error": EXPECTED_CALIBRATION_ERROR,
}

# Correct implementations written differently from the reference: each must keep every point,
# so the hidden tests judge the contract, not the reference's particular way of meeting it.
ALTERNATIVES = {
    "normalize_context": {
        "comprehensions": _src('''
            def normalize_context(context, vocab, max_len=None):
                if any(type(item) is not str and not isinstance(item, str) for item in context):
                    raise TypeError("every word must be a str")
                stripped = [item.strip().lower() for item in context]
                words = [w if w in vocab.words else vocab.unk for w in stripped if w != ""]
                if max_len is None:
                    return words
                return words[len(words) - max_len:] if 0 < max_len < len(words) else (words if max_len else [])
        '''),
    },
    "safe_predict": {
        "status_first_then_clip": _src('''
            def safe_predict_with_reason(model, context, vocab):
                if any(not isinstance(item, str) for item in context):
                    return vocab.unk, 0.0, "context holds a non-str item"
                words = normalize_context(context, vocab)
                if len(words) == 0:
                    return vocab.unk, 0.0, "nothing left after normalizing"
                try:
                    word, raw = model.predict(words)
                    value = float(raw)
                except Exception as exc:
                    return vocab.unk, 0.0, repr(exc) or "model raised"
                if math.isnan(value) or math.isinf(value):
                    return vocab.unk, 0.0, "confidence not finite"
                return word, float(np.clip(value, 0.0, 1.0)), None

            def safe_predict(model, context, vocab):
                out = safe_predict_with_reason(model, context, vocab)
                return (out[0], out[1])
        '''),
    },
    "run_test_suite": {
        "dispatch_table": _src('''
            def run_test_suite(model, suite, vocab):
                if not suite:
                    raise ValueError("empty suite")

                class NoAnswer(Exception):
                    pass

                def predicted(context):
                    word, _, why = safe_predict_with_reason(model, context, vocab)
                    if why is not None:
                        raise NoAnswer(why)
                    return word

                def known(words):
                    clean = [w.strip().lower() for w in words]
                    return clean, [w for w in clean if w in vocab and w != vocab.unk]

                def mft(case):
                    expected, valid = known(case["expected"])
                    if not valid:
                        raise ValueError("no expected word is in the vocabulary")
                    word = predicted(case["context"])
                    return word in expected, f"got {word}"

                def inv(case):
                    a, b = predicted(case["context"]), predicted(case["perturbed"])
                    return a == b, f"{a} vs {b}"

                def dir_(case):
                    sign = {"up": 1, "down": -1}[case["direction"]]
                    _, valid = known([case["word"]])
                    if not valid:
                        raise ValueError("word not in the vocabulary")
                    before, after = (normalize_context(case[key], vocab) for key in ("context", "changed"))
                    if not before or not after:
                        raise ValueError("empty context")
                    delta = model.word_probability(after, valid[0]) - model.word_probability(before, valid[0])
                    if not np.isfinite(delta):
                        raise NoAnswer("probability is not finite")
                    return sign * delta > 0, f"delta {delta}"

                runners = {"mft": mft, "inv": inv, "dir": dir_}
                result = {"passed": 0, "failed": 0, "errors": 0, "details": []}
                for case in suite:
                    detail = {"name": case.get("name"), "kind": case.get("kind"), "passed": False, "reason": ""}
                    try:
                        ok, detail["reason"] = runners[case.get("kind")](case)
                    except Exception as exc:
                        result["errors"] += 1
                        detail["reason"] = "error " + repr(exc)
                    else:
                        detail["passed"] = bool(ok)
                        result["passed" if ok else "failed"] += 1
                    result["details"].append(detail)
                return result
        '''),
    },
    "gradient_check": {
        "nditer_and_recomputed_gradients": _src('''
            def gradient_check(model, word_ids, target_ids, eps=1e-5):
                worst = 0.0
                for name in sorted(model.params):
                    values = model.params[name]
                    it = np.nditer(values, flags=["multi_index"])
                    for _ in it:
                        i = it.multi_index
                        saved = values[i].copy()
                        values[i] = saved + eps
                        up = model.loss(word_ids, target_ids)
                        values[i] = saved - eps
                        down = model.loss(word_ids, target_ids)
                        values[i] = saved
                        n = (up - down) / (2 * eps)
                        a = model.gradients(word_ids, target_ids)[name][i]
                        worst = max(worst, float(abs(a - n) / max(1e-6, abs(a) + abs(n))))
                return worst
        '''),
    },
    "evaluate": {
        "per_example_predict": _src('''
            def evaluate(model, examples, vocab, k=3):
                if not examples or k < 1:
                    raise ValueError("no examples, or k < 1")
                right = in_top = 0
                total_confidence = 0.0
                for context, target in examples:
                    words = normalize_context(context, vocab)
                    if not words:
                        continue
                    t = target.strip().lower()
                    t = t if t in vocab else vocab.unk
                    word, confidence = model.predict(words)
                    probs = model.predict_proba([vocab.encode(words[-1])])[0]
                    top = [vocab.decode(int(i)) for i in np.argsort(probs)[::-1][:k]]
                    right += word == t
                    in_top += t in top
                    total_confidence += confidence
                n = len(examples)
                return {"n": n, "accuracy": right / n, "top_k_accuracy": in_top / n,
                        "mean_confidence": total_confidence / n}
        '''),
    },
    "expected_calibration_error": {
        "pure_python": _src('''
            def expected_calibration_error(confidences, correct, n_bins=10):
                confidences, correct = list(confidences), list(correct)
                if not confidences or len(confidences) != len(correct):
                    raise ValueError("bad input")
                bins = {}
                for c, y in zip(confidences, correct):
                    b = min(math.floor(float(c) * n_bins), n_bins - 1)
                    bins.setdefault(b, []).append((float(c), float(bool(y))))
                total = len(confidences)
                ece = 0.0
                for members in bins.values():
                    acc = sum(y for _, y in members) / len(members)
                    conf = sum(c for c, _ in members) / len(members)
                    ece += len(members) / total * abs(acc - conf)
                return ece
        '''),
    },
}


# Wrong implementations that raise inside a hidden test: the failure names the call that raised (with its inputs)
# and what was expected instead, never a bare "RuntimeError: x" (issue 19); words its message must hold.
RAISING = {
    ("safe_predict", "catches_only_value_error"): (
        "test_safe_predict_hidden_failures",
        ["safe_predict(", "['the'], ", "raised RuntimeError: x; expected (vocab.unk, 0.0) for every failure"]),
}


# Realistic slips, each with the hidden test cell (the behaviour's own cell) in which it must lose its points.
SLIPS = {
    ("safe_predict", "no_clipping"): "test_safe_predict_hidden_confidence",
    ("safe_predict", "reason_empty_string_on_fallback"): "test_safe_predict_hidden_reasons",
    ("safe_predict", "reason_is_the_bare_exception_message"): "test_safe_predict_hidden_reasons",
    ("run_test_suite", "kind_matched_case_insensitively"): "test_run_test_suite_hidden_kinds",
    ("run_test_suite", "unk_answer_taken_for_a_fallback"): "test_run_test_suite_hidden_real_unk",
    ("evaluate", "k_below_one_accepted"): "test_evaluate_hidden_k",
    ("evaluate", "targets_not_normalized"): "test_evaluate_hidden_targets_normalized",
}
