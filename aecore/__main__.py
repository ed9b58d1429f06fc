"""The command line: aecore (or python -m aecore) {app, train, evaluate, export-onnx, download, zoo, report}.

Each command imports what it needs when it runs, so `app`, `download` and `report` never wait for torch."""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__
from .checks import lookup
from .devices import DEVICES
from .flags import add_model_and_training_flags, model_config_from_args, train_config_from_args


def _progress(total: int, show: bool):
    """(epochs bar, batches bar, on_epoch, on_batch) for tqdm progress bars; hidden when not show."""
    from tqdm import tqdm

    epochs = tqdm(total=total, desc="epochs", unit="epoch", disable=not show)
    batches = tqdm(desc="batches", unit="batch", leave=False, disable=not show)

    def on_batch(loss: float) -> None:
        batches.update(1)
        batches.set_postfix(loss=f"{loss:.3f}")

    def on_epoch(record: dict) -> None:
        batches.reset()
        epochs.update(1)
        epochs.set_postfix({"train": f"{record['train']['loss']:.3f}",
                            **({"val": f"{record['val']['loss']:.3f}"} if "val" in record else {})})
    return epochs, batches, on_epoch, on_batch


def cmd_train(args) -> int:
    """Train in this process, or as one rank of torchrun's group when torchrun started it."""
    from .train import TrainingError
    from .train.distributed import launched

    try:
        train_cfg = train_config_from_args(args)
        model_config_from_args(args)  # a bad flag is an error before any data is read
        args.image = image_of_training_set(args.image, train_cfg.dataset)
        model_cfg = model_config_from_args(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        with launched(args.device) as processes:
            return _train_and_save(args, model_cfg, train_cfg, processes)
    except (TrainingError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def image_of_training_set(image: list[int] | None, dataset: str) -> list[int]:
    """The model's --image: the training set's shape [C, H, W] when not given; ValueError naming
    both shapes when given and another (a model of one shape cannot train on images of another)."""
    from .checkpoint.fit import data_shape
    from .data import load_dataset
    from .pictures.pixels import ImageShape

    found = data_shape(load_dataset(dataset, "train"))
    if image is not None:
        given = ImageShape.from_list(image, "--image")
        given.check_same(found, f"--image {' '.join(map(str, image))}", f"dataset {dataset}")
    return found.to_list()


def _train_and_save(args, model_cfg, train_cfg, processes) -> int:
    """Every rank trains its share; rank 0 alone shows progress, measures and writes the checkpoint."""
    from .models import build_model
    from .train import save_result, train
    from .train.distributed import sigterm_unwinds, split_note

    if processes.is_main and (note := split_note(build_model(model_cfg), processes, train_cfg.batch_size)):
        print(note, file=sys.stderr)
    epochs, batches, on_epoch, on_batch = _progress(train_cfg.epochs, processes.is_main)
    try:
        result = train(model_cfg, train_cfg, on_epoch=on_epoch, on_batch=on_batch, processes=processes)
    finally:
        batches.close()
        epochs.close()
    if not processes.is_main:
        return 0
    metrics = None
    if args.evaluate:
        from .measure.evaluate import evaluate
        metrics = evaluate(result.model.to(processes.device), args.eval_dataset or train_cfg.dataset)
    with sigterm_unwinds():
        path = save_result(args.out, result, train_cfg, metrics)
    print(f"saved {path} ({result.seconds:.1f} s of training)")
    return 0


def cmd_evaluate(args) -> int:
    from .checkpoint import CheckpointError, load_checkpoint, write_metrics
    from .data import DataError
    from .devices import resolve_device
    from .measure.evaluate import evaluate

    try:
        ckpt = load_checkpoint(args.path)
        dataset = args.dataset or own_dataset(ckpt)
        result = evaluate(ckpt.model.to(resolve_device(args.device)), dataset, max_test=args.max_test)
    except (CheckpointError, DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        write_metrics(ckpt.path, result)
        print(json.dumps(result, indent=2))
    else:
        from .measure.card import images_measured
        print(f"{ckpt.name} on {images_measured(result['measured_on'])}")
        for name, value in result["metrics"].items():
            print(f"  {name:28s} {value:.4f}")
    return 0


def own_dataset(ckpt) -> str:
    """The dataset the checkpoint was trained on, or the one standing in for it when its files are
    missing (said on stderr); DataError when neither is here."""
    from .data import DataError, available_datasets, shown_instead

    own = ckpt.dataset or "mnist"
    shown = shown_instead(own, available_datasets())
    if shown is None:
        raise DataError(f"{ckpt.name} was trained on {own}, which is not on this machine: get it "
                        f"(`python -m aecore download {own}`, or set AECORE_DATA_DIR) or pass --dataset")
    if shown != own:
        print(f"note: {own} is not on this machine; measuring on {shown}, which stands in for it",
              file=sys.stderr)
    return shown


def cmd_export_onnx(args) -> int:
    from .checkpoint import CheckpointError, load_checkpoint
    from .models.onnx_export import TOLERANCE, comparison_images, differences, export_onnx

    try:
        out = export_onnx(args.checkpoint, args.out)
        original, exported = load_checkpoint(args.checkpoint), load_checkpoint(out).model
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    images, what = comparison_images(original)  # of the model's image shape
    diff = differences(original.model, exported, images)
    print(f"wrote {out}: on {what}, codes differ from the original's "
          f"by at most {diff['codes']:.1e}, decoded pixels by at most {diff['images']:.1e}")
    if max(diff.values()) > TOLERANCE:
        print(f"error: the exported graphs differ by more than {TOLERANCE:g}; do not use {out}", file=sys.stderr)
        return 1
    return 0


def cmd_download(args) -> int:
    if args.name == "sprites":  # generated here from a seed, nothing to download
        from .data.sprites import cli_generate
        return cli_generate(args.to, args.train, args.test, args.seed)
    from .data.download import cli_download
    return cli_download(args.name, args.to)


def cmd_zoo(args) -> int:
    from .measure.zoo import BASELINES, compute_baselines, load_baselines, load_recipe, recipe_datasets, train_entry

    recipe = load_recipe()
    # "baselines" measures every dataset's; "baselines:<dataset>" that one's, keeping the others as they are
    entries = {**recipe, "baselines": None, **{f"baselines:{d}": None for d in recipe_datasets(recipe)}}
    names = args.names or [*recipe, "baselines"]
    try:
        for name in names:
            lookup(entries, name, "zoo entry")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for name in names:
        if name.startswith("baselines"):
            wanted = recipe_datasets(recipe) if name == "baselines" else [name.split(":", 1)[1]]
            kept = load_baselines() if name != "baselines" else {}
            measured = {d: compute_baselines(d) if d in wanted else kept[d] for d in recipe_datasets(recipe)
                        if d in wanted or d in kept}
            BASELINES.write_text(json.dumps(measured, indent=2) + "\n")
            print(f"wrote {BASELINES} ({', '.join(wanted)} measured)")
            continue
        print(f"training {name} ...", flush=True)
        path = train_entry(name, recipe[name], on_epoch=lambda r: print(
            f"  epoch {r['epoch']}: train {r['train']['loss']:.3f}"
            + (f", val {r['val']['loss']:.3f}" if "val" in r else ""), flush=True))
        print(f"wrote {path}")
    return 0


def cmd_report(args) -> int:
    from .measure.zoo import report
    print(report(), end="")
    return 0


def cmd_app(args) -> int:
    from . import launch
    try:
        env = launch.environment(args.checkpoints, args.data or ())
        launch.app_root()
    except (NotADirectoryError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return launch.run(args.port, args.host, env)


def _add_app(sub) -> None:
    from .launch import HOST, PORT
    p = sub.add_parser("app", help="start the explorer (as `make run` does in a clone)")
    p.add_argument("--port", type=int, default=PORT, help=f"(default {PORT})")
    p.add_argument("--host", default=HOST, help=f"the address to listen on (default {HOST}: this machine only; "
                                                "0.0.0.0: every network it is on)")
    p.add_argument("--checkpoints", metavar="DIR", default=None,
                   help="the folder of checkpoints to pick from (default: the shipped zoo)")
    p.add_argument("--data", metavar="DIR", action="append",
                   help="a folder of datasets, as AECORE_DATA_DIR (repeat for more; default: $AECORE_DATA_DIR)")
    p.set_defaults(func=cmd_app)


def _prog() -> str:
    """`aecore` when the console script runs, `python -m aecore` otherwise: usage says what was typed."""
    return "aecore" if os.path.basename(sys.argv[0]).startswith("aecore") else "python -m aecore"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=_prog(), description=__doc__)
    parser.add_argument("--version", action="version", version=f"aecore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_app(sub)
    p = sub.add_parser("train", help="train a model and write a checkpoint folder")
    add_model_and_training_flags(p)
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--evaluate", action="store_true", help="also measure it and write metrics.json")
    p.add_argument("--eval-dataset", default=None, help="dataset for --evaluate (default: --dataset)")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="auto: cuda, then mps, then cpu. Under torchrun each process takes its "
                        "GPU (LOCAL_RANK) or the cpu, and --batch-size is per process")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="measure a checkpoint on a dataset's test split")
    p.add_argument("path")
    p.add_argument("--dataset", default=None,
                   help="default: the dataset it was trained on (mnist-sample stands in for missing MNIST)")
    p.add_argument("--max-test", type=int, default=0, help="use only the first N test images")
    p.add_argument("--json", action="store_true", help="print JSON and write metrics.json")
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto: cuda, then mps, then cpu")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("export-onnx", help="write a checkpoint as encoder.onnx + decoder.onnx (+ onnx.json)")
    p.add_argument("checkpoint", help="an aecore checkpoint folder")
    p.add_argument("out", help="the folder to write (replaced if it exists)")
    p.set_defaults(func=cmd_export_onnx)
    p = sub.add_parser("download", help="download a dataset's official files into the cache (sprites: generate them)")
    p.add_argument("name", choices=["mnist", "fashion-mnist", "sprites"])
    p.add_argument("--to", default=None, metavar="DIR", help="the folder to write (default: <cache>/<name>)")
    p.add_argument("--train", type=int, default=None, help="sprites only: training pictures (default 30000)")
    p.add_argument("--test", type=int, default=None, help="sprites only: test pictures (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="sprites only: the seed they are drawn from (default 0)")
    p.set_defaults(func=cmd_download)
    p = sub.add_parser("zoo", help="retrain the shipped checkpoints from checkpoints/recipe.json")
    p.add_argument("names", nargs="*", help="entries to retrain (default: all, then the baselines); "
                   "'baselines:<dataset>' measures one dataset's baselines, keeping the others")
    p.set_defaults(func=cmd_zoo)
    p = sub.add_parser("report", help="print the markdown table of the zoo's measured metrics")
    p.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
