"""`python -m aecore` whose rank-1 process fails at its 3rd optimizer step, as a machine that
dies mid-training would; run under torchrun by test_torchrun.py."""
import os
import sys

import torch

from aecore.__main__ import main

if os.environ.get("RANK") == "1":
    step, calls = torch.optim.Adam.step, []

    def failing_step(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("rank 1 crashed on purpose")
        return step(self, *args, **kwargs)
    torch.optim.Adam.step = failing_step
sys.exit(main())
