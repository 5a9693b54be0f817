#!/usr/bin/env bash
# The GPU check (issue 8): run from a plain working tree on a machine with an NVIDIA GPU, CuPy,
# NumPy, PyTorch (CUDA), pytest and hypothesis already installed. Installs nothing.
#   bash benchmarks/gpu_check.sh            # tests on cuda, the example on cuda, sync audit, CUDA benchmarks
# Prints a summary at the end; exits non-zero if a step failed.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0
summary=()

echo "== device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi not found"
python - <<'PY' || status=1
import numpy, tinytorch
print("numpy", numpy.__version__, "| cuda available:", tinytorch.cuda.is_available(), "| devices:", tinytorch.cuda.device_count())
if tinytorch.cuda.is_available():
    import cupy
    print("cupy", cupy.__version__, "|", tinytorch.cuda.get_device_name(0))
PY

echo "== tests (the device fixture adds a cuda case to every device-aware test)"
if timeout 420 python -m pytest -q -p no:cacheprovider -k "cuda" tests 2>&1 | tee /tmp/tinytorch_gpu_tests.log | tail -25; then :; else status=1; fi
summary+=("cuda tests: $(grep -E '(passed|failed)' /tmp/tinytorch_gpu_tests.log | tail -1)")

echo "== the lecture's program on cuda (1 epoch) and on cpu (same seed)"
for dev in cuda cpu; do
    acc=$(timeout 300 python examples/mnist_mlp.py --device "$dev" --epochs 1 --no-progress --out "/tmp/tinytorch_mnist_$dev" 2>&1 | tee "/tmp/tinytorch_mnist_$dev.log" | grep -E '^Accuracy' || echo "failed")
    [ "$acc" = "failed" ] && status=1
    summary+=("mnist 1 epoch on $dev: $acc ($(grep -E '^epoch 1 took' "/tmp/tinytorch_mnist_$dev.log"))")
done

echo "== implicit synchronizations inside a training step (TINYTORCH_WARN_SYNC=1)"
syncs=$(TINYTORCH_WARN_SYNC=1 timeout 120 python - <<'PY' 2>&1 | tail -1
import warnings
import tinytorch
from tinytorch import nn, optim
model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)).cuda()
opt = optim.SGD(model.parameters(), lr=0.01)
x = tinytorch.randn(128, 784, device="cuda")
y = tinytorch.randint(0, 10, (128,), device="cuda")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
for w in caught:
    print(w.message)
print(f"{len(caught)} implicit synchronizations in 3 training steps")
PY
)
summary+=("sync audit: $syncs")

echo "== CUDA benchmarks (tinytorch vs PyTorch CUDA)"
timeout 420 python benchmarks/run.py --device cuda --cases step --repeats 5 2>&1 | tee /tmp/tinytorch_gpu_bench.log | tail -12 || status=1

echo
echo "== summary"
for line in "${summary[@]}"; do echo "- $line"; done
echo "- benchmark table: benchmarks/results/latest-cuda.md"
exit $status
