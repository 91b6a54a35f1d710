"""PyTorch eager peer of bench/gpu.bench.ts (run by it; prints one JSON line).

The same shape with random weights and the same workload: prefill and decode tokens/s at each
batch size (HF `generate` for decode), and one GRPO-like step: G sampled episodes of `newTokens`
from a prompt of `promptTokens`, then a reference forward (adapters off, no grad) and one PEFT
LoRA forward + backward + Adam step over them. Float32, like trirl. Argument: one JSON object.
"""
import json
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(f):
    sync()
    t0 = time.perf_counter()
    out = f()
    sync()
    return time.perf_counter() - t0, out


def main():
    opts = json.loads(sys.argv[1])
    hf = dict(opts["config"])
    model_type = hf.pop("model_type")
    config = AutoConfig.for_model(model_type, **hf)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32).to(device).eval()
    vocab, p, d = config.vocab_size, opts["prompt"], opts["decode"]
    report = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__,
              "prefill_tokens_per_s": {}, "decode_tokens_per_s": {}}
    for b in opts["batches"]:
        ids = torch.randint(10, min(vocab, 8000), (b, p), device=device)
        with torch.no_grad():
            model(ids)  # warm-up
            t, _ = timed(lambda: model(ids, use_cache=False).logits[:, -1])
        report["prefill_tokens_per_s"][b] = b * p / t
        gen = lambda n: model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=True, top_k=0, pad_token_id=0)
        gen(2)
        t1, _ = timed(lambda: gen(1))
        td, _ = timed(lambda: gen(d))
        report["decode_tokens_per_s"][b] = b * (d - 1) / max(td - t1, 1e-9)
        print(f"pytorch batch {b}: prefill {report['prefill_tokens_per_s'][b]:.1f} tok/s, decode {report['decode_tokens_per_s'][b]:.1f} tok/s", file=sys.stderr)

    g, new, prompt_tokens = opts["group"], opts["newTokens"], max(1, int(opts["promptTokens"]))
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    lora = LoraConfig(r=opts["loraRank"], lora_alpha=2 * opts["loraRank"], lora_dropout=0.0,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    policy = get_peft_model(model, lora)
    prompt = torch.randint(10, min(vocab, 8000), (1, prompt_tokens), device=device).repeat(g, 1)
    with torch.no_grad():
        t_gen, seqs = timed(lambda: policy.generate(input_ids=prompt, max_new_tokens=new, min_new_tokens=new, do_sample=True, top_k=0, pad_token_id=0))
    optim = torch.optim.Adam([q for q in policy.parameters() if q.requires_grad], lr=1e-4)

    def update():
        targets = seqs[:, prompt_tokens:]
        with torch.no_grad(), policy.disable_adapter():
            ref = torch.log_softmax(policy(seqs).logits[:, prompt_tokens - 1:-1], -1).gather(-1, targets[..., None])
        policy.train()
        logp = torch.log_softmax(policy(seqs).logits[:, prompt_tokens - 1:-1], -1).gather(-1, targets[..., None])
        loss = -(logp.exp() / logp.detach().exp()).mean() + 0.02 * (torch.exp(ref - logp) - (ref - logp) - 1).mean()
        loss.backward()
        optim.step()
        optim.zero_grad()
        return loss.item()

    t_upd, _ = timed(update)
    report["grpo_step"] = {"group": g, "prompt_tokens": prompt_tokens, "new_tokens": new, "seconds": {"generate": t_gen, "update": t_upd}}
    report["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
    print(json.dumps(report))


if __name__ == "__main__":
    main()
