"""Training: a plain function with callbacks (loop.py), the images it trains on (batches.py), the
history it records (history.py), and the processes it runs on, one or torchrun's group
(distributed.py)."""
from .distributed import Processes, launched  # noqa: F401 -- the package's interface
from .history import HISTORY, Recorder  # noqa: F401
from .batches import random_shift, split_sizes, split_train_val  # noqa: F401
from .loop import TrainingError, TrainingStopped, TrainResult, save_result, train  # noqa: F401
