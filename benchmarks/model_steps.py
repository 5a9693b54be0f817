"""The whole-model train steps of the benchmarks, written once for both libraries (``lib`` is
``tinytorch`` or ``torch``: the code is the same, as it is for a user who switches).

- ``mnist_cnn``: PyTorch's MNIST example (examples/mnist_cnn.py): two 3x3 convolutions, max-pooling,
  dropout, two linear layers, log_softmax + nll_loss, Adadelta(lr=1.0), batch 64 of real-sized
  (1, 28, 28) inputs.

- ``lstm_lm``: PyTorch's word_language_model example in its small setting: Embedding(10000, 200),
  a 2-layer LSTM(200, 200) with dropout 0.2, a Linear decoder to 10000 words, sequences of 35
  (bptt) in batches of 20, the hidden state carried over (detached) between steps, gradient
  clipping at 0.25 and the example's plain SGD update (lr 20).
- ``transformer``: a 2-layer Transformer encoder (d_model 128, 4 heads, feed-forward 512, dropout
  0.1, batch_first, causal mask) between an Embedding(1000, 128) and a Linear head, sequences of
  64 in batches of 32, cross-entropy, Adam.
"""

import numpy as np

VOCAB_LSTM, BPTT, BATCH_LSTM, HIDDEN = 10000, 35, 20, 200
VOCAB_TRANSFORMER, SEQ, BATCH_TRANSFORMER, D_MODEL, HEADS = 1000, 64, 32, 128, 4
CNN_BATCH = 64


def _tokens(shape, vocab, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, size=shape)


def lstm_lm(lib, device="cpu"):
    """A function running n steps of the word-language-model LSTM."""
    nn = lib.nn
    lib.manual_seed(0)

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.2)
            self.encoder = nn.Embedding(VOCAB_LSTM, HIDDEN)
            self.rnn = nn.LSTM(HIDDEN, HIDDEN, 2, dropout=0.2)
            self.decoder = nn.Linear(HIDDEN, VOCAB_LSTM)
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

        def forward(self, data, hidden):
            emb = self.drop(self.encoder(data))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            return self.decoder(output).view(-1, VOCAB_LSTM), hidden

    model = RNNModel().to(device)
    criterion = nn.CrossEntropyLoss()
    tokens = _tokens((BPTT + 1, BATCH_LSTM), VOCAB_LSTM, 0)
    data = lib.tensor(tokens[:-1], device=device)
    targets = lib.tensor(tokens[1:].reshape(-1), device=device)
    state = {"hidden": tuple(lib.zeros(2, BATCH_LSTM, HIDDEN, device=device) for _ in range(2))}

    def run(n):
        for _ in range(n):
            hidden = tuple(h.detach() for h in state["hidden"])  # repackage_hidden
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-20.0)
            state["hidden"] = hidden
        if device != "cpu":
            lib.cuda.synchronize()

    return run


def transformer(lib, device="cpu"):
    """A function running n steps of a small Transformer-encoder language model."""
    nn = lib.nn
    lib.manual_seed(0)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB_TRANSFORMER, D_MODEL)
            layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, 4 * D_MODEL, dropout=0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(D_MODEL, VOCAB_TRANSFORMER)

        def forward(self, x, mask):
            return self.head(self.encoder(self.embed(x), mask=mask, is_causal=True))

    model = Encoder().to(device)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    tokens = _tokens((BATCH_TRANSFORMER, SEQ + 1), VOCAB_TRANSFORMER, 1)
    x = lib.tensor(tokens[:, :-1], device=device)
    y = lib.tensor(tokens[:, 1:].reshape(-1), device=device)
    mask = nn.Transformer.generate_square_subsequent_mask(SEQ, device=device)

    def run(n):
        for _ in range(n):
            optimizer.zero_grad()
            loss = criterion(model(x, mask).reshape(-1, VOCAB_TRANSFORMER), y)
            loss.backward()
            optimizer.step()
        if device != "cpu":
            lib.cuda.synchronize()

    return run


def mnist_cnn(lib, device="cpu"):
    """A function running n train steps of PyTorch's MNIST example network at batch 64."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = lib.flatten(self.dropout1(x), 1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    model = Net().to(device)
    model.train()
    optimizer = lib.optim.Adadelta(model.parameters(), lr=1.0)
    rng = np.random.default_rng(2)
    x = lib.tensor(rng.standard_normal((CNN_BATCH, 1, 28, 28)).astype(np.float32), device=device)
    y = lib.tensor(rng.integers(0, 10, size=CNN_BATCH), device=device)

    def run(n):
        for _ in range(n):
            optimizer.zero_grad()
            loss = F.nll_loss(model(x), y)
            loss.backward()
            optimizer.step()
        if device != "cpu":
            lib.cuda.synchronize()

    return run


MODELS = {"lstm": lstm_lm, "transformer": transformer, "mnist_cnn": mnist_cnn}
CASE_NAMES = {
    "lstm": "LSTM LM step (word_language_model small: seq 35, batch 20, 2x200, vocab 10000)",
    "transformer": "Transformer encoder LM step (2 layers, d_model 128, 4 heads, seq 64, batch 32)",
    "mnist_cnn": "MNIST CNN step (PyTorch's mnist example: 2 conv, max-pool, 2 linear, Adadelta; batch 64)",
}
