"""The model's processor. Qwen-VL processors carry a video processor that needs torchvision;
this recipe feeds images only, so without torchvision the same processor class is used without
its video part."""

from __future__ import annotations

from pathlib import Path


def image_only(cls):
    from transformers import ProcessorMixin

    class ImageOnlyProcessor(cls):
        # The sub-processors are read from this signature: image processor and tokenizer only.
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token = getattr(tokenizer, "image_token", "<|image_pad|>")
            self.video_token = getattr(tokenizer, "video_token", "<|video_pad|>")
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    ImageOnlyProcessor.__name__ = cls.__name__
    return ImageOnlyProcessor


def load_processor(model_dir: Path, processor_class: str):
    import transformers
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    try:
        import torchvision  # noqa: F401
    except ImportError:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir), padding_side="left")
        cls = image_only(getattr(transformers, processor_class))
        return cls(image_processor=AutoImageProcessor.from_pretrained(str(model_dir)), tokenizer=tokenizer, chat_template=tokenizer.chat_template)
    return AutoProcessor.from_pretrained(str(model_dir), padding_side="left")
