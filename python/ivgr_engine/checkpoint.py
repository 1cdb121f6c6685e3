"""`save` / `restore`: weights as safetensors, optimizer, scheduler, RNG states and step.

A full-weight checkpoint folder is also a model folder (config, tokenizer and image
processor files are copied next to the weights), so `load` accepts it directly.
RNG states are JSON, optimizer and scheduler are loaded with `weights_only`, so
restoring a checkpoint never unpickles arbitrary objects.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import dist
from .errors import CHECKPOINT_ERROR, EngineError
from .params import field

FORMAT = 1
MODEL_FILES = (
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "vocab.json", "merges.txt", "added_tokens.json", "preprocessor_config.json", "processor_config.json",
    "chat_template.json", "chat_template.jinja", "video_preprocessor_config.json", "ivgr.json",
)


def published_key(key: str) -> str:
    """Weight names as in the released Qwen-VL checkpoints, which every supported transformers reads."""
    for new, old in (("model.language_model.", "model."), ("model.visual.", "visual.")):
        if key.startswith(new):
            return old + key[len(new):]
    return key


def _tied(model) -> bool:
    cfg = model.config
    text = getattr(cfg, "text_config", None)
    return bool(getattr(cfg, "tie_word_embeddings", False) or getattr(text, "tie_word_embeddings", False))


def full_state(policy, every_rank: bool = False) -> dict[str, torch.Tensor]:
    """The whole model's weights on CPU, gathered from the shards under FSDP (a collective); then
    only rank 0 gets them unless `every_rank`."""
    if policy.parallel.sharded:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        state = get_model_state_dict(policy.model, options=StateDictOptions(full_state_dict=True, cpu_offload=not every_rank))
    else:
        state = policy.model.state_dict()
    return {k: v.detach().to("cpu").contiguous() for k, v in state.items()}


def _published(policy, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights under the released names; a tied output head is stored once, as the embedding."""
    tied = _tied(policy.model)
    return {published_key(k): v for k, v in state.items() if not (tied and k == "lm_head.weight")}


def _hyperparameters(optimizer) -> list[dict]:
    return [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]


def _optimizer_state(policy) -> dict:
    """Optimizer state keyed by parameter name, so it restores across DDP, FSDP and one process.

    Before the first step there is none, and torch's state-dict helpers would make it by
    stepping with zero gradients (AdamW's step count 1), so the next update would not be a
    first step; the hyperparameters alone are saved then. Every rank steps together, so all
    skip the collective alike."""
    if not policy.optimizer.state:
        return {"state": {}, "param_groups": _hyperparameters(policy.optimizer)}
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    return get_optimizer_state_dict(policy.model, policy.optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def _set_optimizer_state(policy, optim: dict, options) -> None:
    """The saved state, or, for one saved before the first step, a fresh optimizer with its hyperparameters."""
    if optim.get("state"):
        from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

        set_optimizer_state_dict(policy.model, policy.optimizer, optim_state_dict=optim, options=options)
        return
    groups = optim.get("param_groups", [])
    if len(groups) != len(policy.optimizer.param_groups):
        raise ValueError(f"optimizer.pt has {len(groups)} parameter group(s) but the optimizer {len(policy.optimizer.param_groups)}")
    policy.optimizer.state.clear()
    for live, saved in zip(policy.optimizer.param_groups, groups):
        live.update({k: v for k, v in saved.items() if k != "params"})


def _rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode(),
        "cuda": [base64.b64encode(s.numpy().tobytes()).decode() for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }


def _set_rng_state(state: dict) -> None:
    def tensor(b64: str) -> torch.Tensor:
        return torch.frombuffer(bytearray(base64.b64decode(b64)), dtype=torch.uint8).clone()

    torch.set_rng_state(tensor(state["torch"]))
    if torch.cuda.is_available() and state.get("cuda"):
        torch.cuda.set_rng_state_all([tensor(s) for s in state["cuda"]])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save(policy, params: dict) -> dict:
    target = Path(field(params, "dir", str, "save"))
    step = field(params, "step", int, "save")
    tmp = target.with_name(target.name + ".partial")
    if dist.is_main():
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
    dist.gather(None)  # the folder exists before any rank writes its RNG file
    state = full_state(policy)
    optim = _optimizer_state(policy)
    if dist.is_main():
        if policy.opts.lora:
            from peft import get_peft_model_state_dict

            adapter = {k: v.contiguous() for k, v in get_peft_model_state_dict(policy.model, state_dict=state).items()}
            save_file(adapter, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
            policy.model.peft_config["default"].save_pretrained(str(tmp))
        else:
            save_file(_published(policy, state), str(tmp / "model.safetensors"), metadata={"format": "pt"})
            for name in MODEL_FILES:
                src = policy.opts.path / name
                if src.is_file():
                    shutil.copyfile(src, tmp / name)
        torch.save(optim, tmp / "optimizer.pt")
        torch.save(policy.scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "engine-state.json").write_text(json.dumps({
            "format": FORMAT,
            "step": step,
            "engineStep": policy.step,
            "architecture": policy.architecture,
            "baseModel": str(policy.opts.path),
            "lora": policy.opts.lora,
            "world": dist.world(),
            "parallel": policy.parallel.mode,
        }, indent=2))
    (tmp / f"rng-{dist.rank()}.json").write_text(json.dumps(_rng_state()))
    dist.gather(None)
    if dist.is_main():
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    dist.gather(None)
    return {}


def restore(policy, store, params: dict) -> dict:
    src = Path(field(params, "dir", str, "restore"))
    state_file = src / "engine-state.json"
    if not state_file.is_file():
        raise EngineError(CHECKPOINT_ERROR, f"restore: {src} is not a checkpoint folder (no engine-state.json)")
    state = json.loads(state_file.read_text())
    if bool(state.get("lora")) != bool(policy.opts.lora):
        raise EngineError(CHECKPOINT_ERROR, f"restore: {src} was saved {'with' if state.get('lora') else 'without'} LoRA but the loaded model is {'with' if policy.opts.lora else 'without'}; load the same way first")
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    options = StateDictOptions(full_state_dict=True)
    try:
        if policy.opts.lora:
            from peft import set_peft_model_state_dict

            adapter = load_file(str(src / "adapter_model.safetensors"))
            if policy.parallel.sharded:
                set_model_state_dict(policy.model, _adapter_live_names(policy, adapter), options=StateDictOptions(full_state_dict=True, strict=False))
            else:
                set_peft_model_state_dict(policy.model, {k: v.to(policy.device) for k, v in adapter.items()})
        else:
            full = _live_names(policy, src / "model.safetensors")
            if policy.parallel.sharded:
                set_model_state_dict(policy.model, full, options=options)
            else:
                with torch.no_grad():
                    live = policy.model.state_dict()
                    for k, v in full.items():
                        live[k].copy_(v.to(live[k].dtype))
        optim = torch.load(src / "optimizer.pt", map_location="cpu", weights_only=True)
        _set_optimizer_state(policy, optim, options)
        policy.scheduler.load_state_dict(torch.load(src / "scheduler.pt", weights_only=True))
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        raise EngineError(CHECKPOINT_ERROR, f"restore: cannot load {src}: {e}") from None
    rng = src / f"rng-{dist.rank()}.json"
    _set_rng_state(json.loads((rng if rng.is_file() else src / "rng-0.json").read_text()))
    policy.step = int(state.get("engineStep", 0))
    # Rollouts sampled from other weights would give wrong ratios.
    store.clear()
    return {"step": int(state["step"])}


def _adapter_live_names(policy, adapter: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Adapter weights under the live parameter names (peft drops the adapter name when saving)."""
    from peft import get_peft_model_state_dict

    live = list(policy.model.state_dict().keys())
    markers = {k: torch.tensor(i) for i, k in enumerate(live)}
    saved_to_live = {saved: live[int(m)] for saved, m in get_peft_model_state_dict(policy.model, state_dict=markers).items()}
    unknown = [k for k in adapter if k not in saved_to_live]
    if unknown:
        raise EngineError(CHECKPOINT_ERROR, f"restore: adapter weight {unknown[0]} matches nothing in the loaded model")
    return {saved_to_live[k]: v for k, v in adapter.items()}


def _live_names(policy, path: Path) -> dict[str, torch.Tensor]:
    """The saved weights under the model's own parameter names, checked against the model."""
    saved = load_file(str(path))
    shapes = {k: tuple(v.shape) for k, v in policy.model.state_dict().items()}
    by_published = {published_key(k): k for k in shapes}
    tied = _tied(policy.model)
    missing = [k for k, live in by_published.items() if k not in saved and not (tied and live == "lm_head.weight")]
    if missing:
        raise EngineError(CHECKPOINT_ERROR, f"restore: {path} lacks {len(missing)} weight(s), e.g. {missing[0]}; it was saved from another model")
    unknown = [k for k in saved if k not in by_published]
    if unknown:
        raise EngineError(CHECKPOINT_ERROR, f"restore: {path} has {len(unknown)} weight(s) this model does not, e.g. {unknown[0]}")
    out = {}
    for pk, tensor in saved.items():
        name = by_published[pk]
        if shapes[name] != tuple(tensor.shape):
            raise EngineError(CHECKPOINT_ERROR, f"restore: {pk} has shape {tuple(tensor.shape)} in {path} but {shapes[name]} in the model")
        out[name] = tensor
    if tied and "lm_head.weight" in shapes:
        embed = next(k for k in out if k.endswith("embed_tokens.weight"))
        out["lm_head.weight"] = out[embed]
    return out
