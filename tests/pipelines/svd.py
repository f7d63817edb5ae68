"""A tiny Stable Video Diffusion pipeline with random weights, saved like a real checkpoint."""

from __future__ import annotations

from pathlib import Path

__all__ = ["build_tiny_svd", "TINY_SVD_FRAMES"]

TINY_SVD_FRAMES = 8  # The UNet's native clip length (14 in stable-video-diffusion-img2vid, kept short for speed).


def build_tiny_svd(folder: Path) -> Path:
    """Build a 2-block spatio-temporal UNet, temporal VAE and CLIP image encoder; `save_pretrained` to `folder`."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 32),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
        num_frames=TINY_SVD_FRAMES,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    # AutoencoderKLTemporalDecoder needs channel counts that are multiples of 32 (its group norms).
    # Four blocks downsample 8x like the real VAE, which keeps the UNet's latents small.
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 32, 32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        layers_per_block=1,
        latent_channels=4,
    )
    # The pipeline resizes its input to 224x224 for the image encoder, so the config must match.
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        )
    )
    feature_extractor = CLIPImageProcessor(crop_size=224, size=224)
    pipeline = StableVideoDiffusionPipeline(
        unet=unet, image_encoder=image_encoder, scheduler=scheduler, vae=vae, feature_extractor=feature_extractor
    )
    pipeline.save_pretrained(str(folder))
    return folder
