"""A small PyTorch prefix-LM trained on birdie's batches, with birdie's controller choosing the objective mixture.

    pip install ./bindings/python torch
    python examples/python/train_torch.py --steps 200

The model is a tiny Transformer whose attention follows birdie's mask: bidirectional inside each sample's prefix
(attention_mask 1), causal over the rest (3), nothing across packed samples (segment_ids) or into padding (0). The
loss is the mean cross-entropy over label positions (label_ids != -100); the validation loss of each objective is
logged to birdie at its evaluation steps, and birdie re-chooses the mixture.
"""

from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F

import birdie


class PrefixLM(torch.nn.Module):
    def __init__(self, vocab: int, width: int = 128, layers: int = 2, heads: int = 4, max_len: int = 4096):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.pos = torch.nn.Embedding(max_len, width)
        layer = torch.nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, batch_first=True,
                                                 norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(width)
        self.out = torch.nn.Linear(width, vocab, bias=False)

    def forward(self, b):
        x = self.embed(b["input_ids"]) + self.pos(b["position_ids"])
        seg, mask = b["segment_ids"], b["attention_mask"]
        t = x.shape[1]
        same = (seg[:, :, None] == seg[:, None, :]) & (seg[:, None, :] != 0)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()[None]
        prefix_key = (mask == 1)[:, None, :] & (mask == 1)[:, :, None]
        allowed = same & (causal | prefix_key)
        allowed |= torch.eye(t, dtype=torch.bool, device=x.device)[None]  # padding rows attend to themselves
        heads = self.blocks.layers[0].self_attn.num_heads
        attn = (~allowed).repeat_interleave(heads, dim=0)
        return self.out(self.norm(self.blocks(x, mask=attn)))


def loss_of(model, b):
    logits = model(b)
    return F.cross_entropy(logits.flatten(0, 1), b["label_ids"].flatten(), ignore_index=-100)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    args = p.parse_args()
    torch.manual_seed(0)
    config = {
        "batch_size": args.batch,
        "sequence_length": args.seq,
        "num_steps": args.steps,
        "steps_between_evaluations": max(args.steps // 5, 1),
        "objectives": "birdie",  # or the reference's list of objective dicts
        "ds": None,  # birdie's bundled corpus; texts, files, or a generator function work too
        "validation_rows": 2,
        "reward_model": {"width": 32, "layers": 1, "iterations": 20},
    }
    with birdie.Birdie(config) as b:
        model = PrefixLM(b.vocab_size)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        losses = []
        for step in range(args.steps):
            if b.time_for_eval(step):
                model.eval()
                with torch.no_grad():
                    for name, batch in b.measure_validation_losses():
                        b.log_validation_loss(name, loss_of(model, birdie.to_torch(batch)), step)
                model.train()
            loss = loss_of(model, birdie.to_torch(b.get_next_training_sample()))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
            if step % 10 == 0:
                print(f"step {step}: loss {loss.item():.3f}")
        k = max(len(losses) // 4, 1)
        first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
        print(f"mean loss of the first {k} steps {first:.3f}, of the last {k} {last:.3f}")
        top = sorted(b.mixture.items(), key=lambda kv: -kv[1])[:3]
        print("mixture, top 3:", ", ".join(f"{n} {w:.2f}" for n, w in top))
        if math.isfinite(last) and last < first:
            print("loss decreased")


if __name__ == "__main__":
    main()
