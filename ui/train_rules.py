"""What a visitor may train on this server, and under which name. The hosted demo
(AECORE_DEMO=1) bounds a training: the bundled sample, the mlp body, codes of at most 16
dimensions, at most 10 epochs, a cost (aecore.train.cost: every setting that scales it) of at most
100 plain epochs, and 3 minutes of training; every visitor's models are in a folder of their own
session, deleted with it. A checkpoint's name is unique: not a zoo checkpoint's, not one of the
session's uploads (ui/checkpoints); checked whatever values a client sends."""
from __future__ import annotations

from pathlib import Path

from aecore.train.cost import scaled_by, training_cost
from ui import checkpoints
from ui.training import Request

# cost: plain epochs of work (aecore.train.cost), ~0.3 s each on one core: every kind at its
# defaults fits at 10 epochs and 16-D (contractive, the dearest, costs 88); seconds: stopped then
DEMO_LIMITS = {"datasets": ["mnist-sample"], "bodies": ["mlp"], "latent_dim": 16, "epochs": 10, "cost": 100,
               "seconds": 180}
LIMITS = {"datasets": None, "bodies": ["mlp", "conv", "broadcast"], "latent_dim": 64, "epochs": 200, "cost": None, "seconds": None}


def _refusal(limits: dict) -> str:
    return (f"this server trains {', '.join(limits['datasets'] or ['any dataset'])} with the "
            f"{' or '.join(limits['bodies'])} body, codes up to {limits['latent_dim']}-D and up to "
            f"{limits['epochs']} epochs")


def check_dataset(name: str, limits: dict) -> None:
    """ValueError when `limits` do not let this server train on dataset `name` (checked before
    its images are read, whatever name a client sends)."""
    if limits["datasets"] and name not in limits["datasets"]:
        raise ValueError(_refusal(limits))


def check_limits(r: Request, limits: dict) -> None:
    """ValueError when `r` asks for more than `limits` allow, its cost included."""
    m, t = r.model, r.training
    check_dataset(t.dataset, limits)
    if m.body not in limits["bodies"] \
            or m.latent_dim > limits["latent_dim"] or t.epochs > limits["epochs"]:
        raise ValueError(_refusal(limits))
    cost = training_cost(m, t)
    if limits["cost"] and (total := sum(cost.values())) > limits["cost"]:
        parts = ", ".join(f"{part} {value:,.0f}" for part, value in cost.items())
        raise ValueError(f"this training would cost about {total:,.0f} plain epochs of work ({parts}); the demo "
                         f"trains up to {limits['cost']}: lower {', '.join(['epochs', *scaled_by(m)])}")


def check_name_free(name: str) -> None:
    """ValueError when `name` is a zoo checkpoint's or one of this session's uploads."""
    if name in checkpoints.zoo_names():
        raise ValueError(f"{name} is the name of a checkpoint in the zoo: pick another name")
    if name in {Path(p).name for p in checkpoints.uploads()}:
        raise ValueError(f"{name} is the name of one of your uploads: pick another name")
