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


def _unique_state(model) -> dict[str, torch.Tensor]:
    """State dict without tied duplicates (safetensors refuses shared storage)."""
    out, seen = {}, set()
    for k, v in model.state_dict().items():
        ptr = (v.untyped_storage().data_ptr(), v.storage_offset(), tuple(v.shape))
        if ptr in seen:
            continue
        seen.add(ptr)
        out[published_key(k)] = v.detach().to("cpu").contiguous()
    return out


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
    if dist.is_main():
        model = policy.model
        if policy.opts.lora:
            from peft import get_peft_model_state_dict

            adapter = {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()}
            save_file(adapter, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
            model.peft_config["default"].save_pretrained(str(tmp))
        else:
            save_file(_unique_state(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
            for name in MODEL_FILES:
                src = policy.opts.path / name
                if src.is_file():
                    shutil.copyfile(src, tmp / name)
        torch.save(policy.optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(policy.scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "engine-state.json").write_text(json.dumps({
            "format": FORMAT,
            "step": step,
            "engineStep": policy.step,
            "architecture": policy.architecture,
            "baseModel": str(policy.opts.path),
            "lora": policy.opts.lora,
            "world": dist.world(),
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
    try:
        if policy.opts.lora:
            from peft import set_peft_model_state_dict

            set_peft_model_state_dict(policy.model, load_file(str(src / "adapter_model.safetensors"), device=str(policy.device)))
        else:
            _load_full(policy, src / "model.safetensors")
        policy.optimizer.load_state_dict(torch.load(src / "optimizer.pt", map_location=policy.device, weights_only=True))
        policy.scheduler.load_state_dict(torch.load(src / "scheduler.pt", weights_only=True))
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        raise EngineError(CHECKPOINT_ERROR, f"restore: cannot load {src}: {e}") from None
    rng = src / f"rng-{dist.rank()}.json"
    _set_rng_state(json.loads((rng if rng.is_file() else src / "rng-0.json").read_text()))
    policy.step = int(state.get("engineStep", 0))
    # Rollouts sampled from other weights would give wrong ratios.
    store.clear()
    return {"step": int(state["step"])}


def _load_full(policy, path: Path) -> None:
    saved = load_file(str(path))
    live = policy.model.state_dict()
    by_published = {published_key(k): k for k in live}
    missing = [k for k in by_published if k not in saved]
    # A tied output head is saved once, under the embedding's name.
    untied_missing = [k for k in missing if not _is_tied(policy.model, by_published[k])]
    if untied_missing:
        raise EngineError(CHECKPOINT_ERROR, f"restore: {path} lacks {len(untied_missing)} weight(s), e.g. {untied_missing[0]}; it was saved from another model")
    unknown = [k for k in saved if k not in by_published]
    if unknown:
        raise EngineError(CHECKPOINT_ERROR, f"restore: {path} has {len(unknown)} weight(s) this model does not, e.g. {unknown[0]}")
    with torch.no_grad():
        for pk, tensor in saved.items():
            dst = live[by_published[pk]]
            if dst.shape != tensor.shape:
                raise EngineError(CHECKPOINT_ERROR, f"restore: {pk} has shape {tuple(tensor.shape)} in {path} but {tuple(dst.shape)} in the model")
            dst.copy_(tensor.to(dst.dtype))


def _is_tied(model, key: str) -> bool:
    live = model.state_dict()
    ptr = live[key].untyped_storage().data_ptr()
    return any(k != key and v.untyped_storage().data_ptr() == ptr for k, v in live.items())
