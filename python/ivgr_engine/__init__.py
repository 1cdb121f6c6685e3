"""iVGR compute engine: a Qwen2-VL-family policy served over JSON-RPC 2.0 on stdio."""

__version__ = "0.1.0"
