"""Training: a plain function with callbacks (loop.py), the history it records (history.py), and
the processes it runs on, one or torchrun's group (distributed.py)."""
from .distributed import Processes, launched  # noqa: F401 -- the package's interface
from .history import HISTORY, Recorder  # noqa: F401
from .loop import (TrainingError, TrainingStopped, TrainResult, random_shift, save_result, split_sizes,  # noqa: F401
                   split_train_val, train)
