"""A character-level language model of first names: it reads 32,032 names, learns which letter
follows which, and makes up new names.

Four models of the same task, each predicting the next character from the ones before it:
  mlp          Bengio et al. (2003): embeddings of the last 3 characters, a tanh hidden layer
  gru, lstm    a recurrent network over the whole name so far
  transformer  a small decoder-only Transformer (causal self-attention, GPT-style pre-norm blocks)

Every name is framed by a special token "." (index 0): the model reads ".emma" and must predict
"emma." one character at a time; the loss is the cross-entropy in nats per character (including
the final "."), over a 90/10 train/test split drawn with a fixed seed. For scale: predicting a
uniform guess over the 27 tokens costs ln 27 = 3.30 nats; a bigram table (the next character
from the current one only) about 2.45 (printed at the start); the small Transformer of the
makemore project reaches about 1.92.

Written as a PyTorch user writes it; only the import lines say tinytorch.
Run: python examples/char_lm.py --model transformer [--steps 6000 --device cpu]
"""

import argparse
import math
import os
import time

import numpy as np
from tqdm import tqdm

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "names.txt")

# Per model: default steps, learning rate and batch size (a few minutes each on two CPU cores).
DEFAULTS = {
    "mlp": {"steps": 8000, "lr": 3e-3, "batch_size": 64},
    "gru": {"steps": 5000, "lr": 3e-3, "batch_size": 64},
    "lstm": {"steps": 5000, "lr": 3e-3, "batch_size": 64},
    "transformer": {"steps": 5000, "lr": 2e-3, "batch_size": 64},
}


# -- data --------------------------------------------------------------------------------------
class Names:
    """Names as padded index tensors: x = [0, c1, ..., cn, 0...], y = [c1, ..., cn, 0, -1...]
    (-1: positions after the end, left out of the loss by ignore_index)."""

    def __init__(self, words, chars, length):
        self.words, self.chars, self.length = words, chars, length
        self.stoi = {ch: i + 1 for i, ch in enumerate(chars)}
        self.itos = {i: ch for ch, i in self.stoi.items()}
        x = np.zeros((len(words), length + 1), dtype=np.int64)
        y = np.full((len(words), length + 1), -1, dtype=np.int64)
        for row, word in enumerate(words):
            codes = [self.stoi[ch] for ch in word]
            x[row, 1:1 + len(codes)] = codes
            y[row, :len(codes)] = codes
            y[row, len(codes)] = 0
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    @property
    def vocab_size(self):
        return len(self.chars) + 1

    def decode(self, codes):
        return "".join(self.itos[c] for c in codes)


def load_names(path, seed, subset=None):
    with open(path) as f:
        words = [line.strip() for line in f if line.strip()]
    chars = sorted(set("".join(words)))
    length = max(len(w) for w in words)
    # The 90/10 split, drawn with its own generator so that it never depends on the model's seed.
    order = torch.randperm(len(words), generator=torch.Generator().manual_seed(seed)).tolist()
    test_size = len(words) // 10
    train_words = [words[i] for i in order[test_size:]]
    test_words = [words[i] for i in order[:test_size]]
    if subset:
        train_words, test_words = train_words[:subset], test_words[:max(subset // 10, 1)]
    return Names(train_words, chars, length), Names(test_words, chars, length)


def bigram_test_loss(train, test):
    """The test loss of a bigram table (add-one smoothed counts): the baseline to beat."""
    counts = np.ones((train.vocab_size, train.vocab_size))
    x, y = train.x.numpy(), train.y.numpy()
    kept = y >= 0
    np.add.at(counts, (x[kept], y[kept]), 1)
    log_probs = np.log(counts / counts.sum(1, keepdims=True))
    x, y = test.x.numpy(), test.y.numpy()
    kept = y >= 0
    return float(-log_probs[x[kept], y[kept]].mean())


# -- models ------------------------------------------------------------------------------------
class MLP(nn.Module):
    """Bengio et al. (2003): the embeddings of the previous ``context`` tokens, concatenated,
    through a tanh hidden layer to the next token's logits."""

    def __init__(self, vocab_size, context=3, n_embd=24, n_hidden=256):
        super().__init__()
        self.context = context
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.hidden = nn.Linear(context * n_embd, n_hidden)
        self.head = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx):
        b, t = idx.shape
        pieces, shifted = [], idx
        for _ in range(self.context):  # token t, t-1, t-2: before the start they are "." (0)
            pieces.append(self.wte(shifted))
            shifted = torch.cat([torch.zeros(b, 1, dtype=torch.long, device=idx.device), shifted[:, :-1]], dim=1)
        return self.head(torch.tanh(self.hidden(torch.cat(pieces, dim=-1))))


class RNNLM(nn.Module):
    """Embeddings through a GRU or LSTM; each step's hidden state predicts the next token."""

    def __init__(self, vocab_size, cell="gru", n_embd=32, n_hidden=128):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(n_embd, n_hidden, batch_first=True)
        self.head = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx):
        out, _ = self.rnn(self.wte(idx))
        return self.head(out)


class TransformerLM(nn.Module):
    """A decoder-only Transformer: token and position embeddings, pre-norm blocks of causal
    self-attention and a GELU MLP (nn.TransformerEncoderLayer with a causal mask), a final norm."""

    def __init__(self, vocab_size, block_size, n_layer=4, n_head=4, n_embd=64):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        layer = nn.TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layer, norm=nn.LayerNorm(n_embd), enable_nested_tensor=False)
        self.head = nn.Linear(n_embd, vocab_size)
        for module in self.modules():  # GPT-2's initialization: small normal weights, zero biases
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx):
        t = idx.shape[1]
        positions = torch.arange(t, device=idx.device)
        x = self.wte(idx) + self.wpe(positions)
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device)
        return self.head(self.blocks(x, mask=mask, is_causal=True))


def build(name, vocab_size, block_size):
    if name == "mlp":
        return MLP(vocab_size)
    if name in ("gru", "lstm"):
        return RNNLM(vocab_size, name)
    return TransformerLM(vocab_size, block_size)


# -- training and evaluation -------------------------------------------------------------------
def loss_of(model, x, y, reduction="mean"):
    logits = model(x)  # (N, T, C)
    # cross_entropy over (N, C, T) logits and (N, T) targets; -1 marks the padding after a name.
    return F.cross_entropy(logits.transpose(1, 2), y, ignore_index=-1, reduction=reduction)


@torch.no_grad()
def evaluate(model, data, device, batch_size=1000):
    """The mean loss in nats per character over every name of ``data``."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(data.words), batch_size):
        x, y = data.x[start:start + batch_size].to(device), data.y[start:start + batch_size].to(device)
        total += loss_of(model, x, y, reduction="sum").item()
        count += int((data.y[start:start + batch_size] >= 0).sum())
    model.train()
    return total / count


@torch.no_grad()
def sample(model, data, device, count, generator):
    """``count`` names drawn one character at a time from the model's softmax (multinomial)."""
    model.eval()
    idx = torch.zeros(count, 1, dtype=torch.long, device=device)
    for _ in range(data.length):
        probs = F.softmax(model(idx)[:, -1, :], dim=-1)
        idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
    model.train()
    names = []
    for row in idx[:, 1:].tolist():
        names.append(data.decode(row[:row.index(0)] if 0 in row else row))
    return names


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a character-level language model of first names.")
    parser.add_argument("--model", default="transformer", choices=list(DEFAULTS))
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: per model)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate of AdamW (cosine decay to 1/10)")
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=3407, help="the model's seed (initialization, batches, samples)")
    parser.add_argument("--split-seed", type=int, default=42, help="the seed of the 90/10 train/test split")
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N training names only")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--out", default="runs/char_lm", help="folder for the weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    args = parser.parse_args(argv)
    for key, value in DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train, test = load_names(args.data, args.split_seed, args.train_subset)
    print(f"{len(train.words)} training names, {len(test.words)} test names, {train.vocab_size} tokens, "
          f"up to {train.length} characters")
    print(f"bigram baseline: test loss {bigram_test_loss(train, test):.4f} nats per character")

    model = build(args.model, train.vocab_size, train.length + 1).to(device)
    print(f"model {args.model}: {sum(p.numel() for p in model.parameters())} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps, eta_min=args.lr / 10)
    batches = torch.Generator().manual_seed(args.seed)

    start = time.perf_counter()
    progress = tqdm(range(args.steps), desc=args.model, disable=args.no_progress)
    running = None
    for step in progress:
        rows = torch.randint(0, len(train.words), (args.batch_size,), generator=batches)
        x, y = train.x[rows].to(device), train.y[rows].to(device)
        loss = loss_of(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 50 == 0:
            value = loss.item()
            running = value if running is None else 0.9 * running + 0.1 * value
            progress.set_postfix(loss=f"{running:.3f}")
    seconds = time.perf_counter() - start

    train_loss, test_loss = evaluate(model, train, device), evaluate(model, test, device)
    print(f"trained {args.steps} steps in {seconds:.1f} s ({1000 * seconds / max(args.steps, 1):.1f} ms/step)")
    print(f"train loss {train_loss:.4f}, test loss {test_loss:.4f} nats per character "
          f"(perplexity {math.exp(test_loss):.2f})")

    generator = torch.Generator(device).manual_seed(args.seed)
    known = set(train.words) | set(test.words)
    print(f"{args.samples} sampled names (* = in the data set):")
    names = sample(model, train, device, args.samples, generator)
    print("  " + ", ".join(name + ("*" if name in known else "") for name in names))

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"char_lm_{args.model}.safetensors")
    torch.save(model.state_dict(), path)
    print(f"weights saved to {path}")
    return {"train_loss": train_loss, "test_loss": test_loss, "seconds": seconds, "samples": names}


if __name__ == "__main__":
    main()
