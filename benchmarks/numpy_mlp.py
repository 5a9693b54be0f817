"""The hand-written NumPy baseline: the lecture's MLP with forward, backward, SGD and Adam by hand.

This is what "no framework overhead" costs on this machine; tinytorch is measured against it.
"""

import numpy as np

SIZES = (784, 512, 256, 128, 64, 10)


class NumpyMLP:
    def __init__(self, seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
            bound = 1 / np.sqrt(fan_in)
            self.weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
            self.biases.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
        self.adam = None

    def forward(self, x):
        activations = [x]
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w.T
            x += b
            if k < len(self.weights) - 1:
                np.maximum(x, 0, out=x)
            activations.append(x)
        return activations

    def gradients(self, x, labels):
        """Cross-entropy loss and the gradients of every weight and bias."""
        activations = self.forward(x)
        logits = activations[-1]
        shifted = logits - logits.max(1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(1, keepdims=True)
        n = len(labels)
        loss = float(np.log(total).mean() - shifted[np.arange(n), labels].mean())
        grad = exp / total
        grad[np.arange(n), labels] -= 1
        grad /= n
        grads = []
        for k in range(len(self.weights) - 1, -1, -1):
            grads.append((k, grad.T @ activations[k], grad.sum(0)))
            if k:
                grad = grad @ self.weights[k]
                grad *= activations[k] > 0
        return loss, grads

    def sgd_step(self, x, labels, lr=0.01):
        loss, grads = self.gradients(x, labels)
        for k, gw, gb in grads:
            gw *= lr
            self.weights[k] -= gw
            self.biases[k] -= lr * gb
        return loss

    def adam_step(self, x, labels, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        loss, grads = self.gradients(x, labels)
        self.adam_update(grads, lr, betas, eps)
        return loss

    def adam_update(self, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        """Adam's update of every weight and bias from ``gradients``' output."""
        if self.adam is None:
            self.adam = {"t": 0, "m": {}, "v": {}}
        state = self.adam
        state["t"] += 1
        t = state["t"]
        for k, gw, gb in grads:
            for key, param, g in ((("w", k)), self.weights[k], gw), ((("b", k)), self.biases[k], gb):
                m = state["m"].setdefault(key, np.zeros_like(param))
                v = state["v"].setdefault(key, np.zeros_like(param))
                m *= betas[0]
                m += (1 - betas[0]) * g
                v *= betas[1]
                v += (1 - betas[1]) * g * g
                step = lr / (1 - betas[0] ** t)
                denom = np.sqrt(v / (1 - betas[1] ** t)) + eps
                param -= step * m / denom

    def predict(self, x):
        return self.forward(x)[-1].argmax(1)
