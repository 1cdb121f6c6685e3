"""Loading the policy: a Qwen2-VL-family model from a local folder, with optional LoRA and reference."""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import os
import sys
from dataclasses import dataclass, field as dc_field
from pathlib import Path

import torch

from . import dist
from .errors import MODEL_NOT_FOUND, EngineError, invalid
from .params import choice, field, integer, number
from .prompts import PromptEncoder

BUILTIN_TINY = "builtin:tiny"
# The shipped perception-pretrained tiny model (models/ivgr-tiny beside the python folder).
BUILTIN_PRETRAINED = "builtin:ivgr-tiny"
PRETRAINED_DIR = Path(__file__).resolve().parents[2] / "models" / "ivgr-tiny"
DEFAULT_TINY_DIR = os.path.join(".ivgr", "models", "tiny")

# model_type in config.json -> (transformers class name, coordinate convention of its boxes)
ARCHITECTURES = {
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", "qwen25-abs"),
    "qwen2_vl": ("Qwen2VLForConditionalGeneration", "qwen2-1000"),
    "qwen3_vl": ("Qwen3VLForConditionalGeneration", "qwen2-1000"),
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class LoadOptions:
    model: str
    path: Path
    dtype: str
    device: str
    lora: dict | None
    reference: bool
    learning_rate: float
    warmup_steps: int
    seed: int
    parallel: str = "ddp"
    raw: dict = dc_field(default_factory=dict)


def resolve_model_path(model: str) -> Path:
    if model == BUILTIN_PRETRAINED:
        if not (PRETRAINED_DIR / "config.json").is_file():
            raise EngineError(MODEL_NOT_FOUND, f"the shipped pretrained tiny model is missing at {PRETRAINED_DIR}; make it with 'ivgr pretrain configs/pretrain-tiny.yaml'")
        return PRETRAINED_DIR
    if model == BUILTIN_TINY:
        path = Path(os.environ.get("IVGR_TINY_MODEL", DEFAULT_TINY_DIR))
        if not (path / "config.json").is_file():
            raise EngineError(
                MODEL_NOT_FOUND,
                f"the built-in tiny model is not built yet at {path}; build it with "
                f"'python -m ivgr_engine.tiny --corpus <lines.txt> --out {path}' (the demo does this on first use)",
            )
        return path
    path = Path(model).expanduser()
    if not path.exists():
        raise EngineError(MODEL_NOT_FOUND, f"model folder not found: {model}")
    if not (path / "config.json").is_file():
        raise EngineError(MODEL_NOT_FOUND, f"{model} has no config.json; expected a Hugging Face model folder (e.g. Qwen2.5-VL-3B-Instruct)")
    return path


def parse_load(params: dict) -> LoadOptions:
    w = "load"
    model = field(params, "model", str, w)
    path = resolve_model_path(model)
    default_device = f"cuda:{dist.local_rank()}" if torch.cuda.is_available() else "cpu"
    device = field(params, "device", str, w, default_device)
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise invalid(f"load.device: expected a torch device such as cpu or cuda:0, got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise invalid(f"load.device is {device} but this torch build sees no CUDA device")
    dtype = choice(params, "dtype", w, tuple(DTYPES), "bfloat16" if dev.type == "cuda" else "float32")
    if dtype == "float16" and dev.type != "cuda":
        raise invalid("load.dtype float16 needs a CUDA device; on CPU use float32 or bfloat16")
    lora = field(params, "lora", dict, w, None)
    if lora is not None:
        lora = {
            "rank": integer(lora, "rank", "load.lora", 1, 1024),
            "alpha": number(lora, "alpha", "load.lora", 0.0, 1e6),
        }
    return LoadOptions(
        model=model,
        path=path,
        dtype=dtype,
        device=str(dev),
        lora=lora,
        reference=field(params, "reference", bool, w, False),
        learning_rate=number(params, "learningRate", w, 0.0, 1.0, 1e-5),
        warmup_steps=integer(params, "warmupSteps", w, 0, 10**7, 0),
        seed=integer(params, "seed", w, 0, 2**31 - 1, 0),
        parallel=choice(params, "parallel", w, ("ddp", "fsdp"), "ddp"),
        raw=dict(params),
    )


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise EngineError(MODEL_NOT_FOUND, f"cannot read {path}: {e}") from None


class Policy:
    """The model, its tokenizer and image processor, the optional reference, the optimizer."""

    def __init__(self, opts: LoadOptions):
        import transformers
        from transformers import AutoImageProcessor, AutoTokenizer

        self.opts = opts
        self.device = torch.device(opts.device)
        config = read_json(opts.path / "config.json")
        self.ivgr = read_json(opts.path / "ivgr.json") if (opts.path / "ivgr.json").is_file() else {}
        model_type = config.get("model_type")
        if model_type not in ARCHITECTURES:
            raise EngineError(
                MODEL_NOT_FOUND,
                f"{opts.path}/config.json: model_type {model_type!r} is not supported; expected one of {', '.join(ARCHITECTURES)}",
            )
        class_name, convention = ARCHITECTURES[model_type]
        cls = getattr(transformers, class_name, None)
        if cls is None:
            raise EngineError(
                MODEL_NOT_FOUND,
                f"{model_type} needs transformers with {class_name}; installed transformers {transformers.__version__} lacks it",
            )
        self.architecture = class_name
        self.convention = self.ivgr.get("coordConvention", convention)
        self.image_side = int(self.ivgr.get("imageSize", 0))
        torch.manual_seed(opts.seed)
        dtype = DTYPES[opts.dtype]
        # On CPU, bfloat16 means float32 weights and optimizer with bfloat16 matmuls (autocast):
        # bfloat16 weights would round away small AdamW updates.
        self.cpu_autocast = self.device.type == "cpu" and dtype == torch.bfloat16
        if self.cpu_autocast:
            dtype = torch.float32
        kwargs = {"dtype": dtype} if int(transformers.__version__.split(".")[0]) >= 5 else {"torch_dtype": dtype}
        model = cls.from_pretrained(str(opts.path), **kwargs)
        model.to(self.device)
        self.vision_dtype = dtype
        self.tokenizer = AutoTokenizer.from_pretrained(str(opts.path))
        self.image_processor = AutoImageProcessor.from_pretrained(str(opts.path))
        self.encoder = PromptEncoder(self.tokenizer, self.image_processor, self.image_side)
        self.pad_id = self._token_id(self.tokenizer.pad_token or "<|endoftext|>")
        self.eos_ids = [i for i in (self._token_id("<|im_end|>"), self._token_id("<|endoftext|>")) if i is not None]
        # Tokens the policy must never sample: they would desynchronise text and image features.
        self.suppress = [i for i in (self._token_id(t) for t in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")) if i is not None]

        self.reference = None
        if opts.lora:
            from peft import LoraConfig, get_peft_model

            cfg = LoraConfig(
                r=opts.lora["rank"],
                lora_alpha=opts.lora["alpha"],
                lora_dropout=0.0,
                # q/k/v/o projections exist only in the language model (the vision blocks use fused qkv).
                target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            )
            model = get_peft_model(model, cfg)
        elif opts.reference:
            self.reference = copy.deepcopy(model).eval()
            for p in self.reference.parameters():
                p.requires_grad_(False)
        self.model = model
        self.model.train()
        from .parallel import Parallel

        self.parallel = Parallel(self.model, opts.parallel, self.device)
        self.parallel.initialise(self.pad_id, self.device)
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.trainable, lr=opts.learning_rate, betas=(0.9, 0.999), weight_decay=0.0)
        warmup = opts.warmup_steps
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min(1.0, (s + 1) / (warmup + 1)) if warmup else 1.0
        )
        self.step = 0
        forward_params = inspect.signature(self.base_forward_owner().forward).parameters
        self.accepts_logits_to_keep = "logits_to_keep" in forward_params
        # Newer transformers compute the multimodal (3-D) rotary positions only when told which
        # tokens are image tokens; older ones read them from input_ids and lack this argument.
        self.mm_token_types = "mm_token_type_ids" in forward_params
        self.image_token_id = self._token_id("<|image_pad|>")
        self.video_token_id = self._token_id("<|video_pad|>")
        print(f"engine: loaded {class_name} from {opts.path} on {self.device} ({self.parameters() / 1e6:.2f}M parameters)", file=sys.stderr)

    def compute(self):
        """The numeric mode of every forward pass (sampling, old log-probs, update alike)."""
        if self.cpu_autocast:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _token_id(self, token: str) -> int | None:
        tid = self.tokenizer.convert_tokens_to_ids(token)
        return tid if isinstance(tid, int) and tid != self.tokenizer.unk_token_id else None

    def base_forward_owner(self):
        return self.model.get_base_model() if self.opts.lora else self.model

    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def info(self) -> dict:
        return {
            "architecture": self.architecture,
            "parameters": self.parameters(),
            "imageSize": self.image_side,
            "coordConvention": self.convention,
            "device": str(self.device),
        }

    def train_module(self):
        """What the gradient pass calls: the DDP wrapper under torchrun with DDP, else the model."""
        return self.parallel.train_module()

    def set_learning_rate(self, lr: float | None) -> None:
        if lr is None:
            return
        self.scheduler.base_lrs = [lr for _ in self.optimizer.param_groups]
        factor = self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
        for g in self.optimizer.param_groups:
            g["initial_lr"] = lr
            g["lr"] = lr * factor

    def optimizer_step(self, max_grad_norm: float) -> float:
        from .parallel import full_tensor

        norm = full_tensor(torch.nn.utils.clip_grad_norm_(self.trainable, max_grad_norm if max_grad_norm > 0 else float("inf")))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return float(norm)
