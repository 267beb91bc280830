#!/usr/bin/env python3
"""Peer reference for the tier-2 GPU tests: a seeded random Llama-3-shaped model in Hugging Face transformers.

Builds LlamaConfig + LlamaForCausalLM in code (no network), saves it with save_pretrained as bf16 safetensors into
OUT/model, runs a random prompt through it in bf16 (sdpa attention; CUDA when available) and writes
  OUT/reference.json  {"prompt_ids": [...], "positions": [...], "vocab": V, "attn": ..., "device": ..., versions}
  OUT/logits.bin      float32 little-endian [len(positions), V]: HF's bf16 logits at the sampled positions
  OUT/logits_f32.bin  the same positions with the same (bf16-valued) weights run in float32 math
Usage: hf_reference.py OUT [--tokens 2048] [--positions 128] [--seed 1234]
"""
import argparse
import json
import os

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--positions", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    shape = dict(
        vocab_size=2048, hidden_size=512, intermediate_size=1536, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=128, max_position_embeddings=8192,
        rms_norm_eps=1e-5, tie_word_embeddings=False, hidden_act="silu",
        initializer_range=0.05, bos_token_id=1, eos_token_id=2)
    try:  # transformers 5 keeps RoPE settings in rope_parameters; older versions take rope_theta
        config = LlamaConfig(**shape, rope_parameters={"rope_type": "default", "rope_theta": 500000.0})
    except TypeError:
        config = LlamaConfig(**shape, rope_theta=500000.0)
    if getattr(config, "rope_theta", 500000.0) != 500000.0:
        config.rope_theta = 500000.0
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        # Wider logits (std ~4) so top-1 margins are well above bf16 noise; norms off 1 so they matter.
        model.lm_head.weight.mul_(4.0)
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.uniform_(0.9, 1.1)
    model = model.to(torch.bfloat16).eval()

    model_dir = os.path.join(args.out, "model")
    os.makedirs(model_dir, exist_ok=True)
    model.save_pretrained(model_dir, safe_serialization=True)
    # Our config reader takes rope_theta / torch_dtype at top level (transformers 5 may nest rope parameters).
    config_path = os.path.join(model_dir, "config.json")
    with open(config_path) as f:
        saved = json.load(f)
    # Write the RoPE base the model really uses (transformers versions differ in where they read it from): recover it
    # from the rotary table, inv_freq[1] = base^(-2/d), rounded to 6 significant digits.
    inv_freq = LlamaForCausalLM(config).model.rotary_emb.inv_freq.double()  # a fresh float32 table
    base = float(f"{inv_freq[1].item() ** (-128 / 2):.6g}")
    print(f"rope base used by transformers: {base}")
    saved["rope_theta"] = base
    saved["head_dim"] = 128
    saved["torch_dtype"] = "bfloat16"
    saved["architectures"] = ["LlamaForCausalLM"]
    saved.pop("rope_scaling", None)
    with open(config_path, "w") as f:
        json.dump(saved, f, indent=1)

    # Reload the checkpoint the way users run transformers (from_pretrained with a dtype): the model built above was
    # cast with .to(bfloat16), which also rounds the rotary inv_freq buffer to bf16 — not how HF runs a checkpoint.
    device = "cuda" if torch.cuda.is_available() else "cpu"
    generator = torch.Generator().manual_seed(args.seed + 1)
    ids = torch.randint(3, config.vocab_size, (1, args.tokens), generator=generator)
    with torch.no_grad():
        peer = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).to(device).eval()
        logits = peer(ids.to(device)).logits[0].float().cpu()  # [tokens, vocab]: the peer, as HF runs bf16
        del peer
        # The same bf16 weights in float32 math: the exact answer our bf16 path is measured against.
        reference = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device).eval()
        print(f"rope inv_freq dtype in the float32 reload: {reference.model.rotary_emb.inv_freq.dtype}")
        exact = reference(ids.to(device)).logits[0].cpu()

    # How decisive the model is: transformers' own bf16 run against its float32 run, over every position.
    same = (logits.argmax(-1) == exact.argmax(-1)).float().mean().item()
    print(f"transformers bf16 vs float32 top-1 agreement over {args.tokens} positions: {same:.1%}")

    count = min(args.positions, args.tokens)
    positions = sorted({round(i * (args.tokens - 1) / (count - 1)) for i in range(count)})
    logits[positions].numpy().astype("<f4").tofile(os.path.join(args.out, "logits.bin"))
    exact[positions].numpy().astype("<f4").tofile(os.path.join(args.out, "logits_f32.bin"))
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump({
            "prompt_ids": ids[0].tolist(), "positions": positions, "vocab": config.vocab_size,
            "attn": getattr(model.config, "_attn_implementation", "?"), "device": device,
            "torch": torch.__version__, "transformers": transformers.__version__,
        }, f)
    print(f"wrote {len(positions)} positions x {config.vocab_size} logits, {args.tokens} tokens, on {device}")


if __name__ == "__main__":
    main()
