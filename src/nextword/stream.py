"""A simulated production stream on a simulated clock: requests, delayed feedback, latencies, a drift.

Nothing here sleeps. Time is a number that moves forward as events are read,
so a day of traffic runs in milliseconds and every run with the same seed is
the same.
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .grammar import _TABLES as TABLES
from .grammar import check_positive_int, check_regime, draw_sentence
from .vocabulary import default_vocabulary


class SimulatedClock:
    """A clock that only moves when told to. ``now`` is in simulated seconds, starting at ``start``."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    @property
    def now(self) -> float:
        """The current simulated time, in seconds (a float)."""
        return self._now

    def advance_to(self, t: float) -> None:
        """Move the clock to time ``t``; raises ``ValueError`` if ``t`` is in the past."""
        if t < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {t}")
        self._now = float(t)


@dataclass(frozen=True)
class Request:
    """A prediction request: the model sees ``context`` at time ``t`` and answers in ``latency_ms``.

    ``regime`` ("A" or "B") says which world the request came from; a real
    system never knows it, so use it only to score your detector.
    """

    request_id: int
    t: float
    context: tuple[str, ...]
    latency_ms: float
    regime: str
    kind = "request"


@dataclass(frozen=True)
class Feedback:
    """The next word the user actually typed after request ``request_id``, arriving at time ``t``.

    With ``label_noise`` > 0 some feedback is wrong: ``target`` is then a random
    real word, as when a user's reaction is misread.
    """

    request_id: int
    t: float
    target: str
    kind = "feedback"


def _events(kind: type, rows: tuple) -> list:
    """New ``kind`` objects (frozen dataclasses) from rows of their fields, without re-running ``__init__``.

    Built for each stream, so an event changed through one stream, even by force, never reaches another.
    """
    fields = [field.name for field in dataclasses.fields(kind)]
    make, events = object.__new__, []
    for row in rows:
        event = make(kind)
        event.__dict__.update(zip(fields, row))
        events.append(event)
    return events


_SIMULATIONS: dict[tuple, tuple[tuple, tuple, tuple]] = {}   # settings -> rows, least recently used first
_SIMULATIONS_KEPT = 12  # a 6000-request day takes about 3 MB of rows


class ProductionStream:
    """Simulated traffic for a deployed next-word model, with a drift from regime A to B.

    Parameters
    ----------
    n_requests : int, default 6000
        How many requests the stream produces.
    drift_at : int, None or "half", default "half"
        Index of the first request drawn after the drift; ``None`` means no
        drift, ``"half"`` means ``n_requests // 2``.
    drift_fraction : float in [0, 1], default 1.0
        After the drift, the share of sentences drawn from regime B (the
        size of the drift); the rest still come from regime A.
    seed : int, default 0
    requests_per_second : float, default 2.0
        Mean arrival rate (arrivals form a Poisson process).
    feedback_delay_s : float, default 60.0
        Mean delay (exponential) between a request and its feedback.
    feedback_rate : float in [0, 1], default 1.0
        Share of requests whose true next word ever comes back.
    label_noise : float in [0, 1], default 0.0
        Share of feedback whose target is replaced by a random real word.
    latency_median_ms : float, default 40.0
    latency_tail_prob : float in [0, 1], default 0.02
        Share of requests that hit the heavy tail (Pareto, shape 1.5, times the median).
    drift_latency_tail_prob : float or None
        Tail share after the drift (defaults to ``latency_tail_prob``): raise it to
        make the tail degrade while the median stays put (seen with seed 1:
        0.02 -> 0.10 moves p95 from about 63 to 146 ms, the median from 40 to
        41 ms and the mean from 51 to 79 ms).

    Read it with ``events()``: ``Request`` and ``Feedback`` objects in time order;
    ``clock.now`` is the time of the last event read. ``arrays()`` gives the same day as
    NumPy arrays, to score many streams without reading them event by event.
    """

    def __init__(self, n_requests: int = 6000, drift_at: int | str | None = "half", drift_fraction: float = 1.0,
                 seed: int = 0, requests_per_second: float = 2.0, feedback_delay_s: float = 60.0,
                 feedback_rate: float = 1.0, label_noise: float = 0.0, latency_median_ms: float = 40.0,
                 latency_tail_prob: float = 0.02, drift_latency_tail_prob: float | None = None,
                 drift_regime: str = "B") -> None:
        self.n_requests = check_positive_int("n_requests", n_requests)
        if isinstance(drift_at, str):
            if drift_at != "half":
                raise ValueError(f'drift_at must be None, an int or "half", got {drift_at!r}')
            drift_at = self.n_requests // 2
        if drift_at is not None:
            if isinstance(drift_at, bool) or not isinstance(drift_at, (int, np.integer)) or not 0 <= drift_at <= n_requests:
                raise ValueError(f"drift_at must be None or an int in 0..n_requests ({n_requests}), got {drift_at!r}")
            drift_at = int(drift_at)
        self.drift_at = drift_at
        for name, value in (("drift_fraction", drift_fraction), ("feedback_rate", feedback_rate),
                            ("label_noise", label_noise), ("latency_tail_prob", latency_tail_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        for name, value in (("requests_per_second", requests_per_second), ("latency_median_ms", latency_median_ms)):
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if not feedback_delay_s >= 0:
            raise ValueError(f"feedback_delay_s must be >= 0, got {feedback_delay_s!r}")
        if drift_latency_tail_prob is not None and not 0.0 <= drift_latency_tail_prob <= 1.0:
            raise ValueError(f"drift_latency_tail_prob must be in [0, 1], got {drift_latency_tail_prob!r}")
        self.drift_fraction = float(drift_fraction)
        self.drift_regime = check_regime(drift_regime)
        self.seed = seed
        self.requests_per_second = float(requests_per_second)
        self.feedback_delay_s = float(feedback_delay_s)
        self.feedback_rate = float(feedback_rate)
        self.label_noise = float(label_noise)
        self.latency_median_ms = float(latency_median_ms)
        self.latency_tail_prob = float(latency_tail_prob)
        self.drift_latency_tail_prob = (self.latency_tail_prob if drift_latency_tail_prob is None
                                        else float(drift_latency_tail_prob))
        self.clock = SimulatedClock()
        self._request_events: list[Request] | None = None     # built from _rows on first use
        self._feedback_events: list[Feedback] | None = None
        self._rows: tuple[tuple, tuple] | None = None          # (request rows, feedback rows), when simulated as rows
        self._simulation()

    def _settings(self) -> tuple:
        return (self.n_requests, self.drift_at, self.drift_fraction, self.drift_regime, self.seed,
                self.requests_per_second, self.feedback_delay_s, self.feedback_rate, self.label_noise,
                self.latency_median_ms, self.latency_tail_prob, self.drift_latency_tail_prob)

    def _simulation(self) -> None:
        """Set the day's events: ``_simulate()``'s lists, or its rows, stored when a stream with the same settings and integer seed was built before.

        Notebooks build the same day of traffic several times (a drift-free day per seed, replayed for
        two baselines, or a test rebuilding a demo's stream); the events are fully set by the settings,
        so a rebuilt stream takes the stored rows of their fields instead of simulating them again.
        Each stream gets its own lists and its own event objects (as if simulated), built on first use
        (``arrays()`` reads the rows without them): an event changed through one stream, even by force, never
        reaches another. A subclass that simulates differently, or a seed that is not a
        plain int (``None`` means fresh entropy), is always simulated.
        """
        cacheable = (type(self)._simulate is ProductionStream._simulate
                     and type(self)._simulate_rows is ProductionStream._simulate_rows
                     and isinstance(self.seed, (int, np.integer)) and not isinstance(self.seed, bool))
        if not cacheable:
            self._requests, self._feedback, self._truth = self._simulate()
            return
        key = self._settings()
        stored = _SIMULATIONS.pop(key, None)
        if stored is None:
            requests, feedback, truth = self._simulate_rows()
            stored = (requests, feedback, tuple(truth))
        _SIMULATIONS[key] = stored  # most recently used last
        while len(_SIMULATIONS) > _SIMULATIONS_KEPT:
            del _SIMULATIONS[next(iter(_SIMULATIONS))]
        requests, feedback, truth = stored
        self._rows, self._truth = (requests, feedback), list(truth)

    @property
    def _requests(self) -> list[Request]:
        """This stream's own ``Request`` objects (built from the rows on first use)."""
        if self._request_events is None:
            self._request_events = _events(Request, self._rows[0])
        return self._request_events

    @_requests.setter
    def _requests(self, events: list[Request]) -> None:
        self._request_events = events

    @property
    def _feedback(self) -> list[Feedback]:
        """This stream's own ``Feedback`` objects (built from the rows on first use); a subclass may replace them."""
        if self._feedback_events is None:
            self._feedback_events = _events(Feedback, self._rows[1])
        return self._feedback_events

    @_feedback.setter
    def _feedback(self, events: list[Feedback]) -> None:
        self._feedback_events = events

    def _simulate(self) -> tuple[list[Request], list[Feedback], list[str]]:
        request_rows, feedback_rows, truth = self._simulate_rows()
        return _events(Request, request_rows), _events(Feedback, feedback_rows), truth

    def _simulate_rows(self) -> tuple[tuple[tuple, ...], tuple[tuple, ...], list[str]]:
        """The day's requests and feedback as rows of their fields, and the true next words.

        Rows of numbers and strings can be kept and shared as they are (nothing can change them, even
        by force); the event objects are built from them for each stream.
        """
        # The draws are one scalar per decision, in the order of the plain recipe, so a seed gives the
        # same day whatever the speed-ups: bound methods, lognormal(0, s) as exp(s * z) and
        # exponential(scale) as scale * E (what NumPy itself computes from the same draw).
        rng = np.random.default_rng(self.seed)
        uniform, normal, exponential = rng.random, rng.standard_normal, rng.standard_exponential
        real_words = default_vocabulary().words[1:]
        arrivals = np.cumsum(rng.exponential(1.0 / self.requests_per_second, self.n_requests)).tolist()
        drift_at = self.n_requests if self.drift_at is None else self.drift_at
        median, delay_scale = self.latency_median_ms, self.feedback_delay_s
        feedback_rate, label_noise = self.feedback_rate, self.label_noise
        requests: list[tuple] = []
        feedback: list[tuple] = []
        truth: list[str] = []
        sentence: tuple[str, ...] = ()   # the sentence the user is typing; its prefixes arrive one after another
        cut = 0                          # sentence[cut] is the next target
        sentence_regime = "A"
        for i, t in enumerate(arrivals):
            drifted = i >= drift_at
            if cut >= len(sentence):
                # A user types a whole sentence: its prefixes arrive one after another.
                sentence_regime = self.drift_regime if drifted and uniform() < self.drift_fraction else "A"
                sentence, cut = tuple(draw_sentence(uniform, TABLES[sentence_regime])), 1
            context, target = sentence[:cut], sentence[cut]
            cut += 1
            latency = median * math.exp(0.25 * normal())
            if uniform() < (self.drift_latency_tail_prob if drifted else self.latency_tail_prob):
                latency *= 1.0 + float(rng.pareto(1.5)) * 5.0
            requests.append((i, t, context, latency, sentence_regime))
            truth.append(target)
            if uniform() < feedback_rate:
                if uniform() < label_noise:
                    target = real_words[int(rng.integers(len(real_words)))]
                feedback.append((i, t + (delay_scale * exponential() if delay_scale else 0.0), target))
            if i + 1 == drift_at:
                sentence, cut = (), 0  # the drift starts with a fresh sentence
        return tuple(requests), tuple(feedback), truth

    @property
    def drift_time(self) -> float | None:
        """Simulated time (seconds) of the first request after the drift, or ``None``."""
        if self.drift_at is None or self.drift_at >= self.n_requests:
            return None
        if self._request_events is None:
            return self._rows[0][self.drift_at][1]   # the row's t, without building every request
        return self._requests[self.drift_at].t

    def arrays(self) -> dict[str, np.ndarray]:
        """The day as NumPy arrays, to score many streams without reading them event by event.

        Per request, in arrival order (index = ``request_id``): ``request_t`` (float), ``last_word`` (str:
        the last word of the context, all a last-word model needs), ``latency_ms`` (float).
        Per feedback, in the order ``events()`` delivers it (arrival time, then request id):
        ``feedback_request_id`` (int), ``feedback_t`` (float), ``feedback_target`` (str).
        The same values as the events (a subclass's replaced feedback included); new arrays on each call.
        """
        if self._request_events is None:
            requests = self._rows[0]
            request_t = [row[1] for row in requests]
            last_word = [row[2][-1] for row in requests]
            latency = [row[3] for row in requests]
        else:
            request_t = [r.t for r in self._requests]
            last_word = [r.context[-1] for r in self._requests]
            latency = [r.latency_ms for r in self._requests]
        if self._feedback_events is None:
            feedback = self._rows[1]
            ids, times, targets = [row[0] for row in feedback], [row[1] for row in feedback], [row[2] for row in feedback]
        else:
            ids = [f.request_id for f in self._feedback]
            times = [f.t for f in self._feedback]
            targets = [f.target for f in self._feedback]
        ids, times, targets = np.array(ids, dtype=np.int64), np.array(times, dtype=np.float64), np.array(targets, dtype=str)
        order = np.lexsort((ids, times))
        return {"request_t": np.array(request_t, dtype=np.float64), "last_word": np.array(last_word, dtype=str),
                "latency_ms": np.array(latency, dtype=np.float64), "feedback_request_id": ids[order],
                "feedback_t": times[order], "feedback_target": targets[order]}

    @property
    def requests(self) -> list[Request]:
        """Every request in arrival order (a new list)."""
        return list(self._requests)

    def true_next_word(self, request_id: int) -> str:
        """The word the user really typed next (noise-free): for scoring, never for training."""
        if not 0 <= request_id < self.n_requests:
            raise IndexError(f"request_id {request_id} is out of range 0..{self.n_requests - 1}")
        return self._truth[request_id]

    def events(self) -> Iterator[Request | Feedback]:
        """Yield ``Request`` and ``Feedback`` objects in time order, advancing ``clock``.

        Each call restarts the stream from time 0 with the same events. On equal
        times, feedback comes before requests.
        """
        self.clock = clock = SimulatedClock()
        events = [*self._feedback, *self._requests]
        # One sort by (time, feedback first, request id), done by NumPy: the order of merging the requests
        # (already in time order) with the feedback sorted by (time, request id).
        order = np.lexsort((np.array([event.request_id for event in events], dtype=np.int64),
                            np.arange(len(events)) >= len(self._feedback),
                            np.array([event.t for event in events], dtype=np.float64)))
        for index in order.tolist():
            event = events[index]
            clock.advance_to(event.t)
            yield event

    def __iter__(self) -> Iterator[Request | Feedback]:
        return self.events()

    def __len__(self) -> int:
        return self.n_requests
