#!/usr/bin/env python3
"""Capture Q, K, V of one attention layer of a diffusers video pipeline for `bench --inputs`.

Runs a text-to-video pipeline (HunyuanVideo or Wan 2.1) up to one denoising step, records the
query, key and value tensors that one self-attention layer hands to its attention kernel (after
QK-norm and rotary embedding, i.e. exactly what a sparse attention method would see), and writes

  OUT.safetensors  tensors q, k, v of shape [heads, tokens, headDim] (layout "hnd") and, when
                   its length matches, x [tokens, width]: the hidden states entering the layer
                   (video, then the text stream of a joint-attention model; MoGA's router input)
  OUT.json         the Longshot scenario sidecar (cli.md "Input files"): latent [T, H, W],
                   text tokens and position, heads, headDim, modelType, layout, source

The pipeline stops right after the capture (no further steps, no VAE decode).

How it hooks in: a forward pre-hook on the chosen attention module arms a recorder and a forward
hook disarms it; while armed, the first call to `torch.nn.functional.scaled_dot_product_attention`
(older diffusers processors, [B, heads, L, d]) or to the processor module's
`dispatch_attention_fn` (newer diffusers, [B, L, heads, d]) is recorded. No model code is edited.

Example (one GPU with room for the transformer in bf16):

  python tools/capture_qkv.py --model-type wan --frames 81 --height 480 --width 832 \\
      --steps 50 --step 25 --module blocks.15.attn1 --out captures/wan_b15_s25

  deno task bench --inputs captures/wan_b15_s25.safetensors

Requires torch, diffusers (>= 0.32), transformers, safetensors, accelerate.
See tools/README.md for the sidecar format and notes on padding and classifier-free guidance.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

MODELS = {
    "hunyuan": {
        "repo": "hunyuanvideo-community/HunyuanVideo",
        "module": "transformer_blocks.10.attn",
        "text_position": "suffix",
    },
    "wan": {
        "repo": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "module": "blocks.15.attn1",
        "text_position": "none",
    },
}
DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}


class CaptureComplete(Exception):
    """Raised from the layer's forward hook once Q/K/V are recorded, to stop the pipeline."""


class Recorder:
    """Holds the armed flag, the denoising step and the first Q/K/V seen while armed."""

    def __init__(self, step):
        self.target_step = step
        self.step = 0
        self.armed = False
        self.qkv = None
        self.hidden = None
        self.attn_mask = None
        self.latent_shape = None

    def record(self, q, k, v, attn_mask, heads_first):
        if not self.armed or self.qkv is not None:
            return
        if not heads_first:  # [B, L, heads, d] -> [B, heads, L, d]
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        self.qkv = tuple(t.detach() for t in (q, k, v))
        self.attn_mask = None if attn_mask is None else attn_mask.detach()


def install_recorder(recorder, transformer, module_path):
    """Wraps the attention entry points and hooks the chosen module; returns the module."""
    module = transformer.get_submodule(module_path)
    original_sdpa = F.scaled_dot_product_attention

    def sdpa(query, key, value, attn_mask=None, *args, **kwargs):
        recorder.record(query, key, value, attn_mask, heads_first=True)
        return original_sdpa(query, key, value, attn_mask, *args, **kwargs)

    F.scaled_dot_product_attention = sdpa
    processor_module = sys.modules[type(getattr(module, "processor", module)).__module__]
    original_dispatch = getattr(processor_module, "dispatch_attention_fn", None)
    if original_dispatch is not None:

        def dispatch(query, key, value, *args, **kwargs):
            recorder.record(query, key, value, kwargs.get("attn_mask"), heads_first=False)
            return original_dispatch(query, key, value, *args, **kwargs)

        processor_module.dispatch_attention_fn = dispatch

    def arm(_module, args, kwargs):
        recorder.armed = recorder.step == recorder.target_step
        if recorder.armed and recorder.hidden is None:
            hidden = kwargs.get("hidden_states", args[0] if args else None)
            text = kwargs.get("encoder_hidden_states")
            recorder.hidden = (hidden.detach(), None if text is None else text.detach())

    def disarm(_module, _args, _output):
        recorder.armed = False
        if recorder.qkv is not None:
            raise CaptureComplete()

    def latent_shape(_module, args, kwargs):
        hidden = kwargs.get("hidden_states", args[0] if args else None)
        recorder.latent_shape = tuple(hidden.shape)

    module.register_forward_pre_hook(arm, with_kwargs=True)
    module.register_forward_hook(disarm)
    transformer.register_forward_pre_hook(latent_shape, with_kwargs=True)
    return module


def hidden_states(recorder, batch_index, length):
    """The layer's input hidden states [length, width] in the joint order, or None with a reason."""
    video, text = recorder.hidden
    parts = [video[batch_index]]
    if text is not None and text.shape[-1] == video.shape[-1]:
        parts.append(text[batch_index])
    x = torch.cat(parts, dim=0)
    if x.shape[0] != length:
        return None, f"hidden states hold {x.shape[0]} tokens, attention {length}"
    return x, None


def patch_sizes(config):
    """(pt, ph, pw) from a transformer config: Wan has a tuple, HunyuanVideo an int plus _t."""
    size = config.patch_size
    if isinstance(size, int):
        return getattr(config, "patch_size_t", 1), size, size
    return tuple(size)


def valid_tokens(attn_mask, batch_index, length):
    """Keys the mask lets any query see (drops padded prompt tokens); all when there is no mask."""
    if attn_mask is None:
        return torch.arange(length)
    mask = attn_mask[batch_index] if attn_mask.shape[0] > batch_index else attn_mask[0]
    rows = mask.reshape(-1, mask.shape[-1])
    seen = rows.any(0) if rows.dtype == torch.bool else (rows > -1e4).any(0)
    return torch.nonzero(seen.cpu()).flatten()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-type", choices=sorted(MODELS), default="wan")
    parser.add_argument("--model", help="Hugging Face repo or local path (default: per model type)")
    parser.add_argument("--module", help="attention module path inside the transformer (default: per model type)")
    parser.add_argument("--prompt", default="A red fox runs through fresh snow in a pine forest, camera tracking.")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--steps", type=int, default=50, help="denoising steps of the run")
    parser.add_argument("--step", type=int, default=25, help="0-based step whose Q/K/V are captured")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heads", type=int, default=0, help="keep the first N heads (0: all)")
    parser.add_argument("--batch-index", type=int, default=0, help="batch element (0: conditional pass)")
    parser.add_argument("--keep-padding", action="store_true", help="keep masked-out prompt padding tokens")
    parser.add_argument("--torch-dtype", choices=sorted(DTYPES), default="bf16", help="pipeline weights")
    parser.add_argument("--dtype", choices=["keep", *sorted(DTYPES)], default="keep", help="stored tensors")
    parser.add_argument("--offload", action="store_true", help="enable_model_cpu_offload (less GPU memory)")
    parser.add_argument("--out", required=True, help="output path without extension")
    args = parser.parse_args()
    if not 0 <= args.step < args.steps:
        parser.error(f"--step must be 0..{args.steps - 1} (got {args.step})")

    from diffusers import DiffusionPipeline
    from safetensors.torch import save_file

    spec = MODELS[args.model_type]
    repo = args.model or spec["repo"]
    module_path = args.module or spec["module"]
    pipe = DiffusionPipeline.from_pretrained(repo, torch_dtype=DTYPES[args.torch_dtype])
    if args.offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to("cuda")

    recorder = Recorder(args.step)
    install_recorder(recorder, pipe.transformer, module_path)

    def next_step(_pipe, step, _timestep, callback_kwargs):
        recorder.step = step + 1
        return callback_kwargs

    try:
        pipe(
            prompt=args.prompt,
            num_frames=args.frames,
            height=args.height,
            width=args.width,
            num_inference_steps=args.steps,
            generator=torch.Generator("cpu").manual_seed(args.seed),
            callback_on_step_end=next_step,
            output_type="latent",
        )
    except CaptureComplete:
        pass
    if recorder.qkv is None:
        sys.exit(f"capture_qkv: module {module_path} never ran at step {args.step}")

    q, k, v = (t[args.batch_index] for t in recorder.qkv)  # [heads, L, d]
    x, why_no_x = hidden_states(recorder, args.batch_index, q.shape[1])
    _, _, frames, height, width = recorder.latent_shape
    pt, ph, pw = patch_sizes(pipe.transformer.config)
    latent = [frames // pt, height // ph, width // pw]
    video = latent[0] * latent[1] * latent[2]
    keep = torch.arange(q.shape[1]) if args.keep_padding else valid_tokens(recorder.attn_mask, args.batch_index, q.shape[1])
    if keep.numel() < video or not torch.equal(keep[:video], torch.arange(video)):
        sys.exit("capture_qkv: the attention mask hides video tokens; rerun with --keep-padding")
    q, k, v = (t.index_select(1, keep.to(t.device)) for t in (q, k, v))
    if x is not None:
        x = x.index_select(0, keep.to(x.device))
    text_tokens = q.shape[1] - video
    position = spec["text_position"] if text_tokens > 0 else "none"
    if text_tokens > 0 and position == "none":
        sys.exit(f"capture_qkv: {text_tokens} tokens beyond the {video} video tokens in a model without joint text")
    if args.heads:
        q, k, v = (t[: args.heads] for t in (q, k, v))
    if args.dtype != "keep":
        q, k, v = (t.to(DTYPES[args.dtype]) for t in (q, k, v))
        x = None if x is None else x.to(DTYPES[args.dtype])

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Fresh CPU copies: a head slice still shares the storage of all heads.
    tensors = {name: t.cpu().contiguous().clone() for name, t in zip("qkv", (q, k, v))}
    if x is not None:
        tensors["x"] = x.to(q.dtype).cpu().contiguous().clone()
    save_file(tensors, f"{out}.safetensors")
    sidecar = {
        "name": out.name,
        "latent": latent,
        "text": {"tokens": text_tokens, "position": position},
        "heads": q.shape[0],
        "headDim": q.shape[2],
        "modelType": args.model_type,
        "layout": "hnd",
        "source": (
            f"captured from {repo}, {module_path}, step {args.step} of {args.steps}, "
            f"{args.frames}f {args.height}x{args.width}, seed {args.seed}, prompt {args.prompt!r}"
        ),
    }
    Path(f"{out}.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    print(f"wrote {out}.safetensors ({q.shape[0]} heads x {q.shape[1]} tokens x {q.shape[2]}, {q.dtype}) and {out}.json")
    if x is None:
        print(f"capture_qkv: x not saved ({why_no_x}); moga needs it, moga-kmeans does not")


if __name__ == "__main__":
    main()
