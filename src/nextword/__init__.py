"""nextword: the small NumPy next-word model, its data and its simulated production world.

Shared by every notebook of the course. It holds no exercise solution.
"""

from .grammar import REGIMES, best_last_word_accuracy, make_examples
from .model import NextWordModel, encode_examples, softmax
from .pretrained import pretrained_model
from .stream import Feedback, ProductionStream, Request, SimulatedClock
from .studies import opt_in_study
from .vocabulary import Vocabulary, default_vocabulary

__all__ = [
    "REGIMES", "Feedback", "NextWordModel", "ProductionStream", "Request", "SimulatedClock",
    "Vocabulary", "best_last_word_accuracy", "default_vocabulary", "encode_examples",
    "make_examples", "opt_in_study", "pretrained_model", "softmax",
]
