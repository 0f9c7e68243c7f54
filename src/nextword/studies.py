"""Long ungraded studies that run when asked: a button in JupyterLab, or all of them at once when a build asks.

A notebook's *Going further* studies (a simulation over ten seeds, a router on five streams) take
seconds each. Run top to bottom with the rest of the notebook they would make every Run All, every
grading and every test of the notebook slow, although no grade depends on them. So a study cell
defines its study as a function and hands it to :func:`opt_in_study`:

* by default (a student's Run All, grading) the cell prints one line, saying what the study measures
  and about how long it takes, and shows a button that runs it, with its printed lines and figures,
  into the cell's output;
* when the environment variable ``COURSE_RUN_STUDIES`` (:data:`RUN_STUDIES`) is ``1``, the cell runs
  the study at once: the reader's edition and the tests that check the numbers the prose quotes set it,
  so every study's output is there to read and every quoted number is checked by running it.

Grading never sets it: the sandbox builds its students' environment from scratch.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

RUN_STUDIES = "COURSE_RUN_STUDIES"
"""The environment variable that makes every study cell run its study at once (``1``)."""

NOT_RUN = "Study, not run yet"
"""How the line of a study cell that did not run its study starts."""


def studies_run_at_once() -> bool:
    """Whether study cells run their studies at once (``COURSE_RUN_STUDIES=1``) instead of offering a button."""
    return os.environ.get(RUN_STUDIES, "") == "1"


def opt_in_study(study: Callable[[], object], measures: str, seconds: float) -> None:
    """Offer ``study`` (a function of no argument that prints and draws its results) behind a button, or run it now.

    ``measures`` says in a few words what the study measures (it completes "Study: ..."); ``seconds`` is
    about how long it takes on a quiet machine of two cores. With ``COURSE_RUN_STUDIES=1`` the study runs
    at once, under the line ``Study: <measures>``. Otherwise the cell prints
    ``Study, not run yet (about <seconds> s): <measures>. ...`` and shows a button ("Run this study
    (about <seconds> s)") that runs it into an output area below, first saying that it runs. The study's
    return value is not used: call the study function yourself to get it.
    """
    if studies_run_at_once():
        print(f"Study: {measures}")
        study()
        return

    import ipywidgets as widgets
    from IPython.display import display

    about = f"about {seconds:g} s"
    label = f"Run this study ({about})"
    print(f"{NOT_RUN} ({about}): {measures}. Press the button below to run it.")
    button = widgets.Button(description=label, icon="play", layout=widgets.Layout(width="auto"))
    output = widgets.Output()

    def run(_button=None) -> None:
        button.disabled = True
        button.description = f"Running ({about}) ..."
        try:
            with output:  # the study's prints and figures land in the output area, as they come
                output.clear_output()
                print(f"Running: {measures} ({about}) ...")
                sys.stdout.flush()
                start = time.perf_counter()
                study()
                print(f"Done in {time.perf_counter() - start:.1f} s.")
        finally:
            button.disabled = False
            button.description = label

    button.on_click(run)
    box = widgets.VBox([button, output])
    # Plain-text readers (nbconvert's text, feedback and peer-review pages) see this instead of the widget's repr.
    bundle = dict(box._repr_mimebundle_() or {})
    bundle["text/plain"] = f"[{label}: a button, in JupyterLab with a running kernel]"
    display(bundle, raw=True)
