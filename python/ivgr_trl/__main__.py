"""`accelerate launch -m ivgr_trl --run-dir <run> [--until N]`: trains a `trainer: trl` run.

Reads run.json (the resolved run config) and `<run>/trl/launch.json`, trains with TRL's
GRPOTrainer and the iVGR rewards, and continues from the newest TRL checkpoint when the run
has one (resume = TRL's resume_from_checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .run_folder import RunFolder

VISION_TOKENS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")


def model_class(model_dir: Path):
    import transformers
    from ivgr_engine.model import ARCHITECTURES

    config = json.loads((model_dir / "config.json").read_text())
    kind = config.get("model_type")
    if kind not in ARCHITECTURES:
        raise SystemExit(f"{model_dir}/config.json: model_type {kind!r} is not supported; expected one of {', '.join(ARCHITECTURES)}")
    name, convention = ARCHITECTURES[kind]
    ivgr = model_dir / "ivgr.json"
    if ivgr.is_file():
        convention = json.loads(ivgr.read_text()).get("coordConvention", convention)
    return getattr(transformers, name), convention


def grpo_args(config: dict, launch: dict, output_dir: Path):
    from trl import GRPOConfig

    trl = config.get("trl") or {}
    cpu = config.get("device", "cpu") == "cpu"
    checkpoint_every = int(config.get("checkpointEvery", 0))
    vllm = trl.get("vllm", "off")
    server = trl.get("vllmServer") or {}
    args = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": launch["perDeviceBatch"],
        "gradient_accumulation_steps": 1,
        "num_generations": launch["groupSize"],
        "temperature": launch["temperature"],
        "max_completion_length": int(config["maxTokens"]),
        "learning_rate": float(config["learningRate"]),
        "beta": float(config["klBeta"]),
        "epsilon": float(config["clipEpsilon"]),
        "max_grad_norm": float(config["maxGradNorm"]),
        "max_steps": int(config["steps"]),
        "seed": int(config["seed"]),
        "logging_steps": 1,
        "save_strategy": "steps" if checkpoint_every > 0 else "no",
        "save_steps": max(checkpoint_every, 1),
        "report_to": [],
        "use_cpu": cpu,
        "bf16": not cpu and config.get("dtype") == "bfloat16",
        "fp16": not cpu and config.get("dtype") == "float16",
        "disable_tqdm": True,
        "use_vllm": vllm != "off",
        **({"vllm_mode": vllm} if vllm != "off" else {}),
        **({"vllm_server_host": server.get("host", "127.0.0.1"), "vllm_server_port": int(server.get("port", 8000))} if vllm == "server" else {}),
    }
    args.update(trl.get("args") or {})
    return GRPOConfig(**args)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ivgr_trl", description=__doc__.splitlines()[0])
    p.add_argument("--run-dir", required=True, type=Path)
    p.add_argument("--until", type=int, default=None, help="stop with a checkpoint after this step")
    a = p.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from accelerate import PartialState

    from .callback import RunFolderCallback
    from .data import prompt_dataset, read_rows
    from .processor import load_processor
    from .recorder import Recorder
    from .rewards import IvgrRewards
    from .scorer import Scorer
    from .trainer import IvgrGRPOTrainer

    folder = RunFolder(a.run_dir)
    config = folder.run_json()["config"]
    launch_file = folder.dir / "trl" / "launch.json"
    if not launch_file.is_file():
        raise SystemExit(f"{launch_file}: missing; `ivgr train` writes it (or `ivgr trl <config> --run-dir {folder.dir}`)")
    launch = json.loads(launch_file.read_text())
    state = PartialState()
    main_process = state.is_main_process
    scorer = Scorer(launch.get("scorer"))
    try:
        model_dir = Path(launch["model"])
        cls, convention = model_class(model_dir)
        rows = read_rows(Path(launch["rows"]))
        dataset = prompt_dataset(rows)
        rewards = IvgrRewards(config.get("rewards"), launch.get("convention", convention), scorer)
        args = grpo_args(config, launch, folder.checkpoints)
        args.reward_weights = rewards.weights()
        processor = load_processor(model_dir, cls.__name__.replace("ForConditionalGeneration", "Processor"))
        # A sampled vision token would claim image features the prompt does not have; the engine suppresses them too.
        vocab = processor.tokenizer.get_vocab()
        suppress = [vocab[t] for t in VISION_TOKENS if t in vocab]
        args.generation_kwargs = {"suppress_tokens": suppress, **(args.generation_kwargs or {})}
        model = cls.from_pretrained(str(model_dir), dtype="auto")
        recorder = Recorder(folder, int(config["maxTokens"]))
        trainer = IvgrGRPOTrainer(
            model=model,
            processing_class=processor,
            reward_funcs=rewards.functions(),
            args=args,
            train_dataset=dataset,
            callbacks=[RunFolderCallback(folder, recorder, main_process, model_dir, a.until)],
            ivgr=rewards,
            recorder=recorder if main_process else None,
            questions=[r["question"] for r in rows],
            strata=[r["stratum"] for r in rows],
        )
        resume = any(folder.checkpoints.glob("checkpoint-*"))
        trainer.train(resume_from_checkpoint=True if resume else None)
    except BaseException as e:
        if main_process:
            folder.update(status="crashed", pid=None, message=str(e) if isinstance(e, SystemExit) else f"{type(e).__name__}: {e}")
        raise
    finally:
        scorer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
