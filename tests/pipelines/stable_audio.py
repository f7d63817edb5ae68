"""A tiny random-weight Stable Audio pipeline, built from configs and saved to a folder.

The sizes are the smallest that keep every component's shape contract: the VAE hop is
8 samples at 2000 Hz and the transformer's latent is 512 long, so the model's window is
512 * 8 / 2000 = 2.048 s, and any clip longer than that exercises the windowed path.
"""

from __future__ import annotations

from pathlib import Path

from tests.pipelines.tokenizers import build_t5_tokenizer

__all__ = ["TINY_SAMPLE_RATE", "TINY_WINDOW_SECONDS", "build_tiny_stable_audio"]

TINY_SAMPLE_RATE = 2000
_HOP = 8  # product of the VAE's downsampling ratios
_LATENT_LENGTH = 512
TINY_WINDOW_SECONDS = _LATENT_LENGTH * _HOP / TINY_SAMPLE_RATE


def build_tiny_stable_audio(folder: Path) -> Path:
    """Build the pipeline, `save_pretrained` it into `folder` and return the folder."""
    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    tokenizer = build_t5_tokenizer(folder / "_tokenizer_source", model_max_length=32)
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer), d_model=16, d_kv=4, d_ff=32, num_layers=2, num_heads=4,
            pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        )
    )  # fmt: skip
    transformer = StableAudioDiTModel(
        sample_size=_LATENT_LENGTH, in_channels=3, num_layers=2, attention_head_dim=4, num_attention_heads=2,
        num_key_value_attention_heads=2, out_channels=3, cross_attention_dim=4, time_proj_dim=8,
        global_states_input_dim=8, cross_attention_input_dim=4,
    )  # fmt: skip
    vae = AutoencoderOobleck(
        encoder_hidden_size=6, downsampling_ratios=[2, 4], decoder_channels=3, decoder_input_channels=3,
        audio_channels=2, channel_multiples=[2, 4], sampling_rate=TINY_SAMPLE_RATE,
    )  # fmt: skip
    projection_model = StableAudioProjectionModel(
        text_encoder_dim=text_encoder.config.d_model, conditioning_dim=4, min_value=0, max_value=64
    )
    scheduler = CosineDPMSolverMultistepScheduler(
        solver_order=2, prediction_type="v_prediction", sigma_data=1.0, sigma_schedule="exponential"
    )
    pipeline = StableAudioPipeline(
        transformer=transformer, scheduler=scheduler, vae=vae, text_encoder=text_encoder,
        tokenizer=tokenizer, projection_model=projection_model,
    )  # fmt: skip
    pipeline.save_pretrained(str(folder))
    return folder
