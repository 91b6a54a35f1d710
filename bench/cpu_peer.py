"""PyTorch eager peer of bench/cpu-peer.bench.ts (run by it; prints one JSON line).

The same Qwen shape (random float32 weights) and the same workloads, in plain PyTorch ops (the
Debian box has torch but not transformers): matmul GFLOP/s; prefill and decode tokens/s with a
KV cache; a LoRA training pass (forward over the sequences, log-probs of the sampled tokens,
backward into rank-r adapters on the 7 linears). Each workload runs at each torch thread count
asked for; the bench reports the best. Argument: one JSON object (see the TS side).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, theta):  # x [B, H, T, D], pos [T]
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Model:
    def __init__(self, c, lora_rank):
        g = torch.Generator().manual_seed(0)
        rnd = lambda *s: torch.randn(*s, generator=g) * 0.02
        self.c = c
        h, hd, nh, nk, inter = c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"], c["intermediate_size"]
        self.embed = rnd(c["vocab_size"], h)
        shapes = {"q_proj": (nh * hd, h), "k_proj": (nk * hd, h), "v_proj": (nk * hd, h), "o_proj": (h, nh * hd),
                  "gate_proj": (inter, h), "up_proj": (inter, h), "down_proj": (h, inter)}
        self.layers = []
        for _ in range(c["num_hidden_layers"]):
            layer = {n: rnd(*s) for n, s in shapes.items()}
            if c["model_type"] == "qwen2":
                for n in ("q_proj", "k_proj", "v_proj"):
                    layer[n + ".bias"] = rnd(shapes[n][0])
            else:
                layer["q_norm"], layer["k_norm"] = torch.ones(hd), torch.ones(hd)
            layer["in_norm"], layer["post_norm"] = torch.ones(h), torch.ones(h)
            layer["lora"] = {n: (rnd(lora_rank, s[1]).requires_grad_(), torch.zeros(s[0], lora_rank, requires_grad=True)) for n, s in shapes.items()}
            self.layers.append(layer)
        self.norm = torch.ones(h)
        self.head = self.embed if c["tie_word_embeddings"] else rnd(c["vocab_size"], h)
        self.scale = 2.0  # alpha / r

    def lora_params(self):
        return [p for l in self.layers for a, b in l["lora"].values() for p in (a, b)]

    def linear(self, layer, name, x, use_lora):
        y = F.linear(x, layer[name], layer.get(name + ".bias"))
        if use_lora:
            a, b = layer["lora"][name]
            y = y + F.linear(F.linear(x, a), b) * self.scale
        return y

    def forward(self, ids, cache=None, use_lora=False):  # ids [B, T]; cache: list of (k, v) or None
        c = self.c
        bsz, t = ids.shape
        nh, nk, hd, eps = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["rms_norm_eps"]
        start = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
        pos = torch.arange(start, start + t)
        x = self.embed[ids]
        new_cache = []
        for i, l in enumerate(self.layers):
            h = rms_norm(x, l["in_norm"], eps)
            q = self.linear(l, "q_proj", h, use_lora).view(bsz, t, nh, hd).transpose(1, 2)
            k = self.linear(l, "k_proj", h, use_lora).view(bsz, t, nk, hd).transpose(1, 2)
            v = self.linear(l, "v_proj", h, use_lora).view(bsz, t, nk, hd).transpose(1, 2)
            if "q_norm" in l:
                q, k = rms_norm(q, l["q_norm"], eps), rms_norm(k, l["k_norm"], eps)
            q, k = rope(q, pos, c["rope_theta"]), rope(k, pos, c["rope_theta"])
            if cache is not None and cache[i] is not None:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            new_cache.append((k, v))
            rep = nh // nk
            kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            s = q @ kk.transpose(-1, -2) / math.sqrt(hd)
            if t > 1:
                s = s + torch.triu(torch.full((t, k.shape[2]), float("-inf")), start + 1)
            o = (s.softmax(-1) @ vv).transpose(1, 2).reshape(bsz, t, nh * hd)
            x = x + self.linear(l, "o_proj", o, use_lora)
            h = rms_norm(x, l["post_norm"], eps)
            x = x + self.linear(l, "down_proj", F.silu(self.linear(l, "gate_proj", h, use_lora)) * self.linear(l, "up_proj", h, use_lora), use_lora)
        return rms_norm(x, self.norm, eps), new_cache


def timed(f, reps=3, budget=0.5):
    """The fastest of at least `reps` runs after a warm-up, more while they fit in `budget` seconds
    (at most 50): the box's cores are shared, load only adds time, and a ms-long workload needs many
    tries to see one undisturbed. bench/cpu-peer.bench.ts times its side the same way."""
    f()
    best, spent, runs = float("inf"), 0.0, 0
    while runs < reps or (spent < budget and runs < 50):
        t0 = time.perf_counter()
        f()
        took = time.perf_counter() - t0
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def run(opts, model):
    report = {}
    for n in opts["matmul"]:
        a, b = torch.randn(n, n), torch.randn(n, n)
        report[f"matmul_gflops_n{n}"] = 2 * n ** 3 / timed(lambda: a @ b, 5) / 1e9
    p, new = opts["prompt"], opts["newTokens"]
    vocab = model.c["vocab_size"]
    with torch.no_grad():
        for bsz in opts["prefillBatches"]:
            ids = torch.randint(0, vocab, (bsz, p))
            prefill = lambda: F.linear(model.forward(ids, [None] * len(model.layers))[0][:, -1], model.head)
            report[f"prefill_tok_s_b{bsz}"] = bsz * p / timed(prefill)
        for bsz in opts["decodeBatches"]:
            ids = torch.randint(0, vocab, (bsz, p))
            _, cache = model.forward(ids, [None] * len(model.layers))

            def decode():
                kv, tok = cache, ids[:, -1:]
                for _ in range(new):
                    h, kv = model.forward(tok, kv)
                    tok = F.linear(h[:, -1], model.head).argmax(-1, keepdim=True)
            report[f"decode_tok_s_b{bsz}"] = bsz * new / timed(decode)
    tr = opts["train"]
    ids = torch.randint(0, vocab, (tr["sequences"], tr["length"]))
    sampled_from = tr["length"] - tr["sampled"]
    params = model.lora_params()

    def train_pass():
        h, _ = model.forward(ids[:, :-1], None, use_lora=True)
        logits = F.linear(h[:, sampled_from - 1:], model.head)  # positions that predict sampled tokens
        lp = logits.log_softmax(-1).gather(-1, ids[:, sampled_from:, None]).squeeze(-1)
        loss = -lp.mean()
        grads = torch.autograd.grad(loss, params)
        return grads
    report["train_tok_s"] = tr["sequences"] * tr["length"] / timed(train_pass)
    return report


def main():
    opts = json.loads(sys.argv[1])
    model = Model(opts["config"], opts["train"]["loraRank"])
    results = {}
    for threads in opts["threads"]:
        torch.set_num_threads(threads)
        results[str(threads)] = run(opts, model)
    print(json.dumps({"torch": torch.__version__, "blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0], "by_threads": results}))


if __name__ == "__main__":
    main()
