"""Training: a plain function with callbacks (loop.py), and the history it records (history.py)."""
from .history import HISTORY, Recorder  # noqa: F401 -- the package's interface
from .loop import TrainingError, TrainingStopped, TrainResult, random_shift, save_result, split_train_val, train  # noqa: F401
