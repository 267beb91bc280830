#!/usr/bin/env python3
"""Peer for `skv bench`: full-attention decode throughput of Hugging Face transformers on the same model shape.

Builds a LlamaForCausalLM of the shape in --config (Hugging Face config names; `skv bench` writes it) with random bf16
weights created directly on the GPU (no float32 host copy of an 8B model), SDPA attention, prefills --batch random
prompts of exactly --context tokens (in chunks of --prefill-chunk tokens, keeping only the last position's logits:
a 60K x 128K logits tensor would not fit), then runs --warmup untimed and --steps timed greedy decode steps.

Prints exactly one JSON line on stdout (progress goes to stderr):
  {"status": "ok", "tokens_per_second", "ms_per_step", "prefill_seconds", "peak_memory_bytes", "cache", "attn", ...}
  {"status": "out of memory" | "unavailable" | "error", "error": "..."}
and exits 0 in all of these cases, so the harness can tell a peer that ran out of memory from one that crashed.

The KV cache is transformers' StaticCache (the setting DEVICE.md measured) when this version builds one and a manual
decode loop runs with it; otherwise the run is repeated with the default DynamicCache. "cache" in the output says which.
Usage: hf_decode.py --config SHAPE.json --context 65536 --batch 1 [--steps 32] [--warmup 2] [--seed 0] [--prefill-chunk 8192]
"""
import argparse
import gc
import json
import sys
import time


def emit(result):
    print(json.dumps(result), flush=True)


def log(message):
    print(message, file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="JSON with the model shape (Hugging Face config names)")
    parser.add_argument("--context", type=int, required=True, help="prompt tokens per sequence")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=32, help="timed decode steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed decode steps before the clock starts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefill-chunk", type=int, default=8192,
                        help="prompt tokens per prefill forward: bounds the [B, 1, chunk, cache] attention mask a static cache needs")
    return parser.parse_args()


def build_config(LlamaConfig, shape):
    """A LlamaConfig from the shape; transformers 5 takes RoPE settings as rope_parameters, older versions rope_theta/rope_scaling."""
    fields = dict(
        vocab_size=shape["vocab_size"], hidden_size=shape["hidden_size"], intermediate_size=shape["intermediate_size"],
        num_hidden_layers=shape["num_hidden_layers"], num_attention_heads=shape["num_attention_heads"],
        num_key_value_heads=shape["num_key_value_heads"], head_dim=shape["head_dim"],
        max_position_embeddings=shape["max_position_embeddings"], rms_norm_eps=shape["rms_norm_eps"],
        tie_word_embeddings=shape.get("tie_word_embeddings", False), attention_bias=shape.get("attention_bias", False),
        hidden_act="silu", bos_token_id=1, eos_token_id=2, use_cache=True)
    scaling = shape.get("rope_scaling")
    rope = {"rope_type": "default", "rope_theta": shape["rope_theta"]}
    if scaling:
        rope.update(scaling)
        rope["rope_type"] = scaling.get("rope_type", "llama3")
    try:
        config = LlamaConfig(**fields, rope_parameters=rope)
        rope_path = "rope_parameters"
    except TypeError:
        legacy = {k: v for k, v in rope.items() if k != "rope_theta"} if scaling else None
        config = LlamaConfig(**fields, rope_theta=shape["rope_theta"], rope_scaling=legacy)
        rope_path = "rope_theta/rope_scaling"
    if getattr(config, "rope_theta", shape["rope_theta"]) != shape["rope_theta"]:
        config.rope_theta = shape["rope_theta"]  # a 4.x config keeps unknown keys (rope_parameters) without reading them
    config._attn_implementation = "sdpa"
    return config, rope_path


def make_cache(config, batch, length, torch, kind):
    """A StaticCache sized for the whole run (the transformers 5 constructor, then the 4.x one), or a DynamicCache."""
    reason = "asked for"
    try:
        from transformers import StaticCache
    except ImportError as error:
        StaticCache, reason = None, str(error)
    if kind == "static" and StaticCache is not None:
        attempts = (
            lambda: StaticCache(config=config, max_cache_len=length),  # transformers >= 4.56 / 5: sized lazily
            lambda: StaticCache(config=config, max_batch_size=batch, max_cache_len=length,
                                device="cuda", dtype=torch.bfloat16),  # transformers 4.4x
        )
        reason = ""
        for attempt in attempts:
            try:
                return attempt(), "static"
            except TypeError as error:
                reason = str(error)
    from transformers import DynamicCache
    log(f"StaticCache unavailable ({reason}); using DynamicCache")
    try:
        return DynamicCache(config=config), "dynamic"
    except TypeError:
        return DynamicCache(), "dynamic"


def run(args, torch, cache_kind):
    from transformers import LlamaConfig, LlamaForCausalLM

    with open(args.config) as f:
        shape = json.load(f)
    config, rope_path = build_config(LlamaConfig, shape)
    torch.manual_seed(args.seed)
    torch.cuda.reset_peak_memory_stats()

    # Parameters are created on the GPU in bf16; transformers' own random init runs there too.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("cuda"):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    model = model.to(dtype=torch.bfloat16).eval()
    attn = getattr(model.config, "_attn_implementation", None) or "?"
    log(f"model built: {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B parameters, attention {attn}, rope via {rope_path}")

    total = args.context + 1 + args.warmup + args.steps
    cache, cache_kind = make_cache(model.config, args.batch, total, torch, cache_kind)
    generator = torch.Generator(device="cuda").manual_seed(args.seed)
    prompt = torch.randint(3, config.vocab_size, (args.batch, args.context), device="cuda", generator=generator)

    def forward(ids, start):
        positions = torch.arange(start, start + ids.shape[1], device="cuda")
        return model(input_ids=ids, past_key_values=cache, use_cache=True, cache_position=positions,
                     position_ids=positions.unsqueeze(0).expand(ids.shape[0], -1), logits_to_keep=1).logits

    with torch.inference_mode():
        torch.cuda.synchronize()
        started = time.perf_counter()
        for start in range(0, args.context, args.prefill_chunk):
            logits = forward(prompt[:, start:start + args.prefill_chunk], start)
        torch.cuda.synchronize()
        prefill_seconds = time.perf_counter() - started
        log(f"prefill of {args.batch} x {args.context} tokens: {prefill_seconds:.2f} s")

        token = logits[:, -1].argmax(-1, keepdim=True)
        position = args.context
        for _ in range(args.warmup):
            token = forward(token, position)[:, -1].argmax(-1, keepdim=True)
            position += 1
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(args.steps):
            token = forward(token, position)[:, -1].argmax(-1, keepdim=True)
            position += 1
        torch.cuda.synchronize()
        decode_seconds = time.perf_counter() - started

    return {
        "status": "ok",
        "tokens_per_second": args.batch * args.steps / decode_seconds,
        "ms_per_step": 1000.0 * decode_seconds / args.steps,
        "prefill_seconds": prefill_seconds,
        "peak_memory_bytes": torch.cuda.max_memory_allocated(),
        "cache": cache_kind, "attn": attn, "prefill_chunk": args.prefill_chunk, "rope": rope_path,
    }


def main():
    args = parse_args()
    base = {"context": args.context, "batch": args.batch, "steps": args.steps, "warmup": args.warmup}
    try:
        import torch
        import transformers
    except ImportError as error:
        emit({**base, "status": "unavailable", "error": f"{error} (the peer needs torch and transformers)"})
        return
    base.update({"torch": torch.__version__, "transformers": transformers.__version__})
    if not torch.cuda.is_available():
        emit({**base, "status": "unavailable", "error": "torch sees no CUDA GPU"})
        return
    base["device"] = torch.cuda.get_device_name(0)
    out_of_memory = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    failure = None
    for cache_kind in ("static", "dynamic"):
        try:
            emit({**base, **run(args, torch, cache_kind)})
            return
        except out_of_memory as error:
            emit({**base, "status": "out of memory", "error": "out of memory: " + str(error).split("\n")[0],
                  "peak_memory_bytes": torch.cuda.max_memory_allocated()})
            return
        except Exception as error:  # the harness records the cell and goes on; the traceback goes to stderr
            import traceback
            traceback.print_exc()
            failure = f"{type(error).__name__}: {error}".split("\n")[0]
            log(f"{cache_kind} cache run failed ({failure})" + ("; retrying with DynamicCache" if cache_kind == "static" else ""))
        # Free the failed attempt's model and cache before the retry builds another.
        gc.collect()
        torch.cuda.empty_cache()
    emit({**base, "status": "error", "error": failure})

if __name__ == "__main__":
    main()
