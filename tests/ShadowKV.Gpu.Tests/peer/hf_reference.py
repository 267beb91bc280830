#!/usr/bin/env python3
"""Peer reference for the tier-2 GPU tests: a seeded Llama-3-shaped model in Hugging Face transformers.

Two peer models, both built in code from a seed (no network) and saved with save_pretrained as bf16 safetensors:
  --kind random   random weights and a random prompt. Every vocabulary row is exercised, but the next-token
                  distribution is flat, so many positions have near-tied top-2 logits that bf16 rounding can swap.
  --kind trained  the same shape trained for --train-steps steps on the first --train-bytes of --text (bytes as token
                  ids 3..258) and prompted with the first --tokens of them. Trained on a text small enough to learn by
                  heart, it is decisive at almost every position of its prompt, so top-1 agreement measures the engine
                  rather than coin flips at near-ties. (Trained on a whole essay collection instead, ~3% of positions
                  keep genuinely tied continuations, such as the first letter of the next word.)
Writes
  OUT/model/           the checkpoint (config.json + model.safetensors)
  OUT/reference.json   {"prompt_ids", "positions", "vocab", "kind", "attn", "device", versions, training stats}
  OUT/logits.bin       float32 little-endian [len(positions), V]: HF's bf16 logits at the sampled positions
  OUT/logits_f32.bin   the same positions with the same (bf16-valued) weights run in float32 math
Usage: hf_reference.py OUT [--kind random|trained] [--text FILE] [--train-steps 600] [--train-bytes 16384] [--tokens 2048]
                           [--positions 128] [--seed 1234]
"""
import argparse
import json
import math
import os
import time

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

BYTE_OFFSET = 3  # ids 0, 1, 2 are pad/BOS/EOS; byte b is token b + 3


def build_config():
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
    return config


def random_model(config, args):
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        # Wider logits (std ~4) so top-1 margins sit above bf16 noise more often; norms off 1 so they matter.
        model.lm_head.weight.mul_(4.0)
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.uniform_(0.9, 1.1)
    generator = torch.Generator().manual_seed(args.seed + 1)
    prompt = torch.randint(3, config.vocab_size, (args.tokens,), generator=generator)
    return model, prompt, {}


def trained_model(config, args, device):
    """Trains the seeded model on the text's bytes (next-byte prediction, AdamW, bf16 autocast on CUDA).

    The prompt is the text's first --tokens bytes, which the model has learnt: it is decisive there, which is what
    the 99% top-1 bar assumes; its logits still depend on the whole context (the same bytes recur with different
    continuations), so attention has to be right for them to match. Training is not bit-reproducible on a GPU, so the test never compares
    against stored numbers — both engines read the checkpoint written here.
    """
    with open(args.text, "rb") as f:
        text = f.read()
    data = torch.tensor(list(text[:args.train_bytes] if args.train_bytes > 0 else text), dtype=torch.long) + BYTE_OFFSET
    if len(data) < 2 * args.tokens:
        raise SystemExit(f"{args.text}: {len(data)} training bytes; training needs at least {2 * args.tokens}")
    model = LlamaForCausalLM(config).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    generator = torch.Generator().manual_seed(args.seed + 2)
    batch, length, warmup = 8, args.tokens, min(50, args.train_steps // 10 + 1)
    started, losses = time.time(), []
    for step in range(args.train_steps):
        # Linear warm-up, then cosine decay to a tenth of the peak rate.
        progress = max(0.0, (step - warmup) / max(1, args.train_steps - warmup))
        scale = min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = args.lr * scale
        starts = torch.randint(0, len(data) - length - 1, (batch,), generator=generator)
        window = torch.stack([data[s:s + length + 1] for s in starts.tolist()]).to(device)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(window[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, config.vocab_size), window[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == args.train_steps - 1:
            print(f"train step {step}: loss {loss.item():.3f} ({loss.item() / math.log(2):.2f} bits/byte)")
    seconds = time.time() - started
    final = sum(losses[-20:]) / len(losses[-20:])
    print(f"trained {args.train_steps} steps x {batch} x {length} bytes from {len(data)} bytes of text in {seconds:.1f} s; "
          f"final loss {final:.3f}")
    stats = {"train_steps": args.train_steps, "train_seconds": round(seconds, 1), "final_loss": round(final, 4),
             "train_bytes": len(data), "text": os.path.basename(args.text)}
    return model.cpu().eval(), data[:args.tokens].clone(), stats


def save_checkpoint(model, config, model_dir):
    model = model.to(torch.bfloat16).eval()
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


def margins(logits):
    """Top-1 minus top-2 logit per position: how far bf16 noise must push for the argmax to change."""
    top = logits.topk(2, dim=-1).values
    return top[:, 0] - top[:, 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--kind", choices=["random", "trained"], default="random")
    parser.add_argument("--text", help="training text for --kind trained")
    parser.add_argument("--train-steps", type=int, default=600)
    parser.add_argument("--train-bytes", type=int, default=16384, help="train on this prefix of --text (0: all of it)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--positions", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    if args.kind == "trained" and not args.text:
        parser.error("--kind trained needs --text")

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = build_config()
    model, prompt, stats = random_model(config, args) if args.kind == "random" else trained_model(config, args, device)
    model_dir = os.path.join(args.out, "model")
    save_checkpoint(model, config, model_dir)
    del model

    # Reload the checkpoint the way users run transformers (from_pretrained with a dtype): a model cast with
    # .to(bfloat16) also rounds the rotary inv_freq buffer to bf16 — not how HF runs a checkpoint.
    ids = prompt.unsqueeze(0).to(device)
    with torch.no_grad():
        peer = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).to(device).eval()
        logits = peer(ids).logits[0].float().cpu()  # [tokens, vocab]: the peer, as HF runs bf16
        attn = getattr(peer.config, "_attn_implementation", "?")
        del peer
        # The same bf16 weights in float32 math: the exact answer our bf16 path is measured against.
        reference = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device).eval()
        exact = reference(ids).logits[0].cpu()

    # How decisive the model is: transformers' own bf16 run against its float32 run, over every position.
    same = (logits.argmax(-1) == exact.argmax(-1)).float().mean().item()
    gap = margins(exact)
    print(f"{args.kind} model: transformers bf16 vs float32 top-1 agreement over {args.tokens} positions: {same:.2%}; "
          f"top-2 margin median {gap.median().item():.3f}, below 0.05 at {(gap < 0.05).float().mean().item():.2%} "
          f"of positions, below 0.2 at {(gap < 0.2).float().mean().item():.2%}")
    if args.kind == "trained":
        hits = (exact[:-1].argmax(-1) == prompt[1:]).float().mean().item()
        print(f"trained model predicts the prompt's next byte at {hits:.1%} of positions")

    count = min(args.positions, args.tokens)
    positions = sorted({round(i * (args.tokens - 1) / (count - 1)) for i in range(count)})
    logits[positions].numpy().astype("<f4").tofile(os.path.join(args.out, "logits.bin"))
    exact[positions].numpy().astype("<f4").tofile(os.path.join(args.out, "logits_f32.bin"))
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump({
            "prompt_ids": prompt.tolist(), "positions": positions, "vocab": config.vocab_size, "kind": args.kind,
            "peer_bf16_agreement": same, "attn": attn, "device": device,
            "torch": torch.__version__, "transformers": transformers.__version__, **stats,
        }, f)
    print(f"wrote {len(positions)} positions x {config.vocab_size} logits, {args.tokens} tokens, on {device}")


if __name__ == "__main__":
    main()
