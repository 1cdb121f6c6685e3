"""iVGR on Hugging Face TRL: GRPOTrainer with the dual-stream rewards, writing the run folder the panel reads."""
