"""The command line: python -m aecore {train, evaluate, download, zoo, report, bench-app}."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from .config import ModelConfig, TrainConfig


def add_config_args(parser: argparse.ArgumentParser, cls) -> None:
    """One --flag per config field, typed from the field's default."""
    for f in fields(cls):
        default = f.default_factory() if callable(f.default_factory) else f.default
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, list):
            parser.add_argument(flag, type=int, nargs="*", default=None, help=f"(default {default})")
        else:
            parser.add_argument(flag, type=type(default), default=None, help=f"(default {default})")


def config_from_args(args: argparse.Namespace, cls):
    given = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name) is not None}
    return cls(**given)


def cmd_train(args) -> int:
    from tqdm import tqdm

    from .checkpoint import save_checkpoint
    from .train import TrainingError, train

    model_cfg, train_cfg = config_from_args(args, ModelConfig), config_from_args(args, TrainConfig)
    epochs = tqdm(total=train_cfg.epochs, desc="epochs", unit="epoch")
    batches = tqdm(desc="batches", unit="batch", leave=False)

    def on_batch(loss: float) -> None:
        batches.update(1)
        batches.set_postfix(loss=f"{loss:.3f}")

    def on_epoch(record: dict) -> None:
        batches.reset()
        epochs.update(1)
        epochs.set_postfix({"train": f"{record['train']['loss']:.3f}",
                            **({"val": f"{record['val']['loss']:.3f}"} if "val" in record else {})})
    try:
        result = train(model_cfg, train_cfg, on_epoch=on_epoch, on_batch=on_batch)
    except (TrainingError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        batches.close()
        epochs.close()
    metrics = None
    if args.evaluate:
        from .evaluate import evaluate
        metrics = evaluate(result.model, args.eval_dataset or train_cfg.dataset)
    path = save_checkpoint(args.out, result.model, train_cfg, result.dataset, result.seconds,
                           result.history, metrics)
    print(f"saved {path} ({result.seconds:.1f} s of training)")
    return 0


def cmd_evaluate(args) -> int:
    from .checkpoint import CheckpointError, load_checkpoint, write_metrics
    from .data import DataError, default_dataset
    from .evaluate import evaluate

    try:
        ckpt = load_checkpoint(args.path)
        dataset = args.dataset or default_dataset()[0]
        result = evaluate(ckpt.model, dataset, max_test=args.max_test)
    except (CheckpointError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        write_metrics(ckpt.path, result)
        print(json.dumps(result, indent=2))
    else:
        on = result["measured_on"]
        print(f"{ckpt.name} on {on['dataset']} {on['split']} ({on['size']} images)")
        for name, value in result["metrics"].items():
            print(f"  {name:28s} {value:.4f}")
    return 0


def cmd_download(args) -> int:
    from .download import cli_download
    return cli_download(args.name)


def cmd_zoo(args) -> int:
    import json

    from .zoo import BASELINES, load_recipe, train_entry, compute_baselines

    recipe = load_recipe()
    names = args.names or [*recipe, "baselines"]
    unknown = [n for n in names if n not in recipe and n != "baselines"]
    if unknown:
        print(f"error: unknown zoo entries {unknown}; valid: {', '.join([*recipe, 'baselines'])}", file=sys.stderr)
        return 1
    for name in names:
        if name == "baselines":
            BASELINES.write_text(json.dumps(compute_baselines(), indent=2) + "\n")
            print(f"wrote {BASELINES}")
            continue
        print(f"training {name} ...", flush=True)
        path = train_entry(name, recipe[name], on_epoch=lambda r: print(
            f"  epoch {r['epoch']}: train {r['train']['loss']:.3f}"
            + (f", val {r['val']['loss']:.3f}" if "val" in r else ""), flush=True))
        print(f"wrote {path}")
    return 0


def cmd_report(args) -> int:
    from .zoo import report
    print(report(), end="")
    return 0


def cmd_bench_app(args) -> int:
    from pathlib import Path

    from .bench import bench
    from .checkpoint import CheckpointError

    missing = [p for p in (args.ckpt_2d, args.ckpt_16d) if not Path(p).is_dir()]
    if missing:
        print(f"error: no checkpoint folder {', '.join(missing)}; pass a 2-D and a 16-D checkpoint "
              "with --ckpt-2d and --ckpt-16d (train them with `python -m aecore zoo`)", file=sys.stderr)
        return 2
    try:
        bench(args.ckpt_2d, args.ckpt_16d, repeats=args.repeats, umap=not args.skip_umap,
              numba_cold=args.numba_cold)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aecore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a model and write a checkpoint folder")
    add_config_args(p, ModelConfig)
    add_config_args(p, TrainConfig)
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--evaluate", action="store_true", help="also measure it and write metrics.json")
    p.add_argument("--eval-dataset", default=None, help="dataset for --evaluate (default: --dataset)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="measure a checkpoint on a dataset's test split")
    p.add_argument("path")
    p.add_argument("--dataset", default=None, help="default: full MNIST if present, else mnist-sample")
    p.add_argument("--max-test", type=int, default=0, help="use only the first N test images")
    p.add_argument("--json", action="store_true", help="print JSON and write metrics.json")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("download", help="download a dataset's official files into the cache")
    p.add_argument("name", choices=["mnist", "fashion-mnist"])
    p.set_defaults(func=cmd_download)
    p = sub.add_parser("zoo", help="retrain the shipped checkpoints from checkpoints/recipe.json")
    p.add_argument("names", nargs="*", help="entries to retrain (default: all, then the baselines)")
    p.set_defaults(func=cmd_zoo)
    p = sub.add_parser("report", help="print the markdown table of the zoo's measured metrics")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("bench-app", help="time the explorer's heavy steps against their goals")
    p.add_argument("--ckpt-2d", default="checkpoints/ae-2d", help="a 2-D checkpoint (default %(default)s)")
    p.add_argument("--ckpt-16d", default="checkpoints/vae-16d", help="a 16-D checkpoint (default %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per step (median shown)")
    p.add_argument("--skip-umap", action="store_true", help="leave out the UMAP timings (a minute or more)")
    p.add_argument("--numba-cold", action="store_true",
                   help="empty numba's cache for the UMAP process, as on a fresh machine")
    p.set_defaults(func=cmd_bench_app)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
