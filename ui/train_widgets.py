"""The Train page's widgets: the form that builds the two configs, and the live view of the
server's training (ui/training.py): two fragments that rerun while a training runs or waits, so
only they, not the whole page, are redrawn: the progress every POLL_S seconds, the loss curves and
the map every CHARTS_POLL_S seconds (a watching browser redraws both plotly charts whenever a new
epoch is in: on a server that shares its cores with browsers, as the benchmark's, redrawing them
each second made other visitors' page views 1.8-2.5x slower, every 3 s 1.6-2.1x).

What may be trained, and under which names, is ui/train_rules.py's; training again under the
name of a checkpoint trained here asks first.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import fields

import streamlit as st

from aecore.checkpoint.fit import data_shape
from aecore.config import KIND_OPTIONS, ModelConfig, TrainConfig
from aecore.data import load_dataset
from aecore.latent.projections import axis_names, default_method, map_caption
from aecore.models.penalties import SPARSITY
from aecore.pictures import plots
from aecore.pictures.noise import NOISES
from aecore.train.cost import training_cost
from ui import cached, checkpoints
from ui.train_rules import DEMO_LIMITS, LIMITS, check_dataset, check_limits, check_name_free
from ui.training import Busy, Job, Request, trainer

POLL_S = 1.0        # the progress bar, the last epoch's losses, Stop
CHARTS_POLL_S = 3.0  # the loss curves and the map (python -m benchmarks.load --train)
CHOICES = {"noise": list(NOISES), "sparsity": list(SPARSITY)}  # option fields that name a registry entry


def option_help(cls) -> dict[str, str]:
    """{field: its comment in aecore/config.py}: the dataclass's source is the one description."""
    source = inspect.getsource(cls)
    return dict(re.findall(r"^\s+(\w+):[^#\n]*#\s*(.+)$", source, flags=re.M))


def kind_options(kind: str, columns) -> None:
    """One widget per setting of the kind (aecore.config.KIND_OPTIONS), keyed train_<kind>_<field>,
    its default the config's (a UMAP model's, with its 0 warm-start epochs and its flag, crashed
    the page while every whole number started at 1)."""
    cls = KIND_OPTIONS[kind]
    helps = option_help(cls)
    for i, f in enumerate(fields(cls)):
        column, key, label = columns[i % len(columns)], f"train_{kind}_{f.name}", f.name.replace("_", " ")
        if f.name in CHOICES:
            column.selectbox(label, CHOICES[f.name], index=CHOICES[f.name].index(f.default), key=key,
                             help=helps.get(f.name))
        elif isinstance(f.default, bool):
            column.checkbox(label, f.default, key=key, help=helps.get(f.name))
        elif isinstance(f.default, int):  # the config's own rule refuses what it does not allow, at Start
            column.number_input(label, 0, 1000, f.default, 1, key=key, help=helps.get(f.name))
        else:
            column.number_input(label, 0.0, 1000.0, float(f.default), 0.01, "%.3f", key=key,
                                help=helps.get(f.name))


def form(demo: bool) -> None:
    """Dataset, kind, body, code size, the kind's settings, epochs, seed, name: widgets keyed
    train_<field>, which request() reads."""
    limits = DEMO_LIMITS if demo else LIMITS
    datasets = limits["datasets"] or sorted(cached.available(), key=lambda n: n != "mnist-sample")  # the sample first: seconds
    c = st.columns(4)
    c[0].selectbox("Dataset", datasets, key="train_dataset")
    kind = c[1].selectbox("Kind", list(KIND_OPTIONS), key="train_kind")
    c[2].selectbox("Body", limits["bodies"], key="train_body",
                   help="mlp: dense layers; conv: convolutions down and back up; broadcast: the conv encoder "
                        "and a spatial broadcast decoder (the code tiled over a grid with x and y beside it), "
                        "which helps units take position apart")
    latent_dim = c[3].number_input("Code size", 1, limits["latent_dim"], 2, 1, key="train_latent_dim")
    if fields(KIND_OPTIONS[kind]):
        kind_options(kind, st.columns(4))
    c = st.columns(4)
    c[0].selectbox("Reconstruction loss", ["bce", "mse"], key="train_recon",
                   help="summed over the image's pixel values (784 for 28x28 grey), mean over images")
    c[1].number_input("Epochs", 1, limits["epochs"], min(10, limits["epochs"]), 1, key="train_epochs")
    c[2].number_input("Seed", 0, 2**31 - 1, 0, 1, key="train_seed",
                      help="weights, shuffling, noise: the same seed trains the same model")
    c[3].text_input("Checkpoint name", f"my-{kind}-{latent_dim}d", max_chars=64, key="train_name")
    if demo:
        try:
            cost = sum(training_cost(*_configs(st.session_state)).values())
            st.caption(f"Cost: about {cost:,.0f} plain epochs of work; the demo trains up to {limits['cost']} "
                       "(about 30 s on one core).")
        except ValueError:  # a setting the model config refuses: Start says which
            pass


def _configs(state) -> tuple[ModelConfig, TrainConfig]:
    """The two configs the widgets describe; the model takes the picked dataset's images."""
    kind = state["train_kind"]
    options = {f.name: state[f"train_{kind}_{f.name}"] for f in fields(KIND_OPTIONS[kind])}
    image = data_shape(cached.dataset(state["train_dataset"], "train")).to_list()
    model = ModelConfig(kind=kind, body=state["train_body"], latent_dim=int(state["train_latent_dim"]),
                        recon=state["train_recon"], image=image, options=options)
    training = TrainConfig(dataset=state["train_dataset"], epochs=int(state["train_epochs"]),
                           seed=int(state["train_seed"]))
    return model, training


def request(state, demo: bool = False) -> Request:
    """The Request the form's widgets (in `state`, the session state) describe, checked against
    the limits (the demo's, whatever values a client sends) and the names already taken;
    ValueError says what to change."""
    limits = DEMO_LIMITS if demo else LIMITS
    check_dataset(state["train_dataset"], limits)  # before its images are read for their shape
    model, training = _configs(state)
    r = Request(model, training, state["train_name"].strip(), checkpoints.trained_dir(), checkpoints.session_id(),
                seconds=limits["seconds"])
    check_limits(r, limits)
    check_name_free(r.name)
    return r


def submit(demo: bool = False, replace: str = "") -> None:
    """Start's callback: it reads the widgets as they are now (a value typed just before the click
    included) and counts in AppTest too, where each run starts twice. The request starts or waits
    in line; a refusal is kept for the page to show. A name this server has trained under already
    is replaced only when `replace` is that name (the page asks first)."""
    st.session_state.pop("_train_confirm", None)
    try:
        r = request(st.session_state, demo)
        if (r.folder / r.name).exists() and replace != r.name:
            st.session_state["_train_confirm"] = r.name
            return
        trainer().submit(r)
        st.session_state.pop("_train_refused", None)
    except (Busy, ValueError) as err:
        st.session_state["_train_refused"] = str(err)


def confirm(demo: bool) -> None:
    """The question submit() left: replace the checkpoint of that name, or keep it."""
    name = st.session_state.get("_train_confirm")
    if not name or name != st.session_state.get("train_name", "").strip():
        return
    st.warning(f"A checkpoint named **{name}** was trained here already. Train again and replace it, "
               "or pick another name?")
    c = st.columns(4)
    c[0].button(f"Replace {name}", key="train_replace", on_click=submit, args=(demo, name))
    c[1].button("Keep it", key="train_keep", on_click=st.session_state.pop, args=("_train_confirm", None))


def line_text(waiting: list[str], owner: str) -> str:
    """Who waits for the server's training, and whose turn is next."""
    if not waiting:
        return "Nobody is waiting."
    turn = "yours" if waiting[0] == owner else "another visitor's"
    place = f" You are number {waiting.index(owner) + 1}." if owner in waiting[1:] else ""
    return f"{len(waiting)} waiting; the next turn is {turn}.{place}"


def _signature(owner: str) -> tuple:
    """What decides the page's layout: this session's job and its state, and whether the server trains."""
    mine, (current, _) = trainer().mine(owner), trainer().line()
    return (mine and (mine.id, mine.state), current is not None)


def live(owner: str, demo: bool = False) -> None:
    """The server's training as this session sees it; polls while anything runs or waits."""
    st.session_state["_train_drawn"] = signature = _signature(owner)
    polling = signature[1] or (signature[0] is not None and signature[0][1] in ("queued", "running", "measuring"))
    st.fragment(_live, run_every=POLL_S if polling else None)(owner, demo)
    st.fragment(_charts, run_every=CHARTS_POLL_S if polling else None)(owner)


def _live(owner: str, demo: bool = False) -> None:
    if _signature(owner) != st.session_state.get("_train_drawn"):
        st.rerun()  # started, finished or freed: the whole page changes (form, picker)
    mine, (current, waiting) = trainer().mine(owner), trainer().line()
    if current is not None and current.request.owner != owner:
        r = current.request
        st.info(f"The server is training **{r.name}** ({r.model.kind}, {r.training.dataset}) for another "
                f"visitor: epoch {current.epoch} of {r.training.epochs} finished. One training runs at a time. "
                + line_text(waiting, owner))
    if mine is None:
        return
    if mine.state == "queued":
        st.warning(f"**{mine.request.name}** waits for its turn and starts by itself. " + line_text(waiting, owner))
        st.button("Leave the line", key="train_leave", on_click=trainer().stop, args=(owner,))
        return
    if mine.finished:
        result(mine, demo)
    else:
        progress(mine, waiting)


def _charts(owner: str) -> None:
    """This session's training's loss curves and latest map (below _live's progress or result)."""
    mine = trainer().mine(owner)
    if mine is not None and mine.state != "queued":
        charts(mine)


def progress(job: Job, waiting: list[str]) -> None:
    """The running epoch's bar with the running loss, the last epoch's losses, who waits, and Stop."""
    r, epochs = job.request, job.request.training.epochs
    if job.state == "measuring":
        st.progress(1.0, text=f"Measuring {r.name} on {r.training.dataset} test, then saving…")
        return
    fraction = min(job.batch / job.batches, 1.0) if job.batches else 0.0
    loss = f" · running loss {job.running_loss:.2f}" if job.batch else ""
    st.progress(fraction, text=f"Epoch {min(job.epoch + 1, epochs)} of {epochs}: batch {job.batch} of {job.batches}{loss}")
    if job.history:
        last = job.history[-1]
        terms = ", ".join(f"{k} {v:.2f}" for k, v in last["train"].items())
        val = f"; validation loss {last['val']['loss']:.2f}" if "val" in last else ""
        st.caption(f"Epoch {last['epoch']} ({last['seconds']:.1f} s): {terms}{val} (per image)")
    if waiting:
        st.caption(line_text(waiting, r.owner))
    st.button("Stop (keeps the last finished epoch)", key="train_stop", on_click=trainer().stop,
              args=(r.owner,))


def _open(path: str, page: str) -> None:
    """A callback: pick the checkpoint before the sidebar's picker exists, then go to `page`."""
    st.session_state["checkpoint"], st.session_state["_train_goto"] = path, page


def without_paths(text: str) -> str:
    """`text` with every absolute path (an OSError's, a data file's) said as 'a file on the
    server': the demo shows visitors no host path."""
    return re.sub(r"(?<![\w.~])(?:/[\w.+@~-]+)+/?", "a file on the server", text)


def result(job: Job, demo: bool = False) -> None:
    """Saved (with what to do next; where, except in the demo, which shows no host path) or
    failed (why), and a way back to the form."""
    if st.session_state.get("_train_goto"):
        st.switch_page(st.session_state.pop("_train_goto"))
    outcome = st.container(key="train_outcome")  # its times and folder differ from run to run
    if job.path is not None:
        how = ("reached the demo's time limit; it keeps" if job.timed_out else
               "stopped; it keeps" if job.stopped else "finished")
        where = "for this browser tab" if demo else f"in {job.path.parent}"
        outcome.success(f"**{job.request.name}** {how} {job.epoch} epoch{'s' * (job.epoch != 1)} "
                        f"({job.seconds:.1f} s) and is saved {where}: pick it in the sidebar.")
    else:
        outcome.error(f"Training **{job.request.name}** did not finish: "
                      f"{without_paths(job.error) if demo else job.error}")
    c = st.columns(3)
    if job.path is not None:
        c[0].button("Open it", key="train_open", on_click=_open, args=(str(job.path), "pages/1_overview.py"))
        c[1].button("Replay its history", key="train_replay", on_click=_open,
                    args=(str(job.path), "pages/10_history.py"))
    c[2].button("Train another", key="train_again", on_click=trainer().dismiss, args=(job.request.owner,))


@st.cache_resource(show_spinner=False, max_entries=16)
def _figures(job_id: int, epoch: int, _job: Job) -> tuple:
    """(loss curves, map) of a job after `epoch` epochs: built once per epoch, not at every poll
    (shared, never mutated: st.plotly_chart only serialises them). The map's layout.meta names its
    epoch, for whoever reads the drawn chart (the browser tests: its caption may be drawn first)."""
    r, d = _job.request, _job.request.model.latent_dim
    test = load_dataset(r.training.dataset, "test")
    latent_map = plots.latent_scatter(_job.maps[epoch - 1], _job.index, _job.labels, test.classes, height=440,
                                      axis_names=axis_names(default_method(d), d), label=test.label)
    return plots.loss_curves(_job.history[:epoch]), latent_map.update_layout(meta={"epoch": epoch})


def charts(job: Job) -> None:
    """The loss curves and the latest map of the test subset."""
    if not job.history:
        return
    r, d, epoch = job.request, job.request.model.latent_dim, len(job.history)
    losses, latent_map = _figures(job.id, epoch, job)
    left, right = st.columns([2, 3])
    left.plotly_chart(losses, key="train_losses")
    with right:
        st.plotly_chart(latent_map, key="train_map")
        how = map_caption(default_method(d), d, 0) + (", turned to match the epoch before" if d > 2 else "")
        st.caption(f"After epoch {epoch}: the first {len(job.index):,} {r.training.dataset} test images, {how}.")
