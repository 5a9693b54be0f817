#!/usr/bin/env bash
# The GPU check (issue 8): run from a plain working tree on a machine with an NVIDIA GPU, CuPy,
# NumPy, PyTorch (CUDA), pytest and hypothesis already installed. Installs nothing.
#   bash benchmarks/gpu_check.sh            # whole suite (cuda cases included), the example on cuda,
#                                           # sync audit, CUDA benchmarks; about 6 minutes on an H200
#   GPU_CHECK_LOGS=dir bash benchmarks/gpu_check.sh   # also keep the logs in dir
# Prints a summary at the end; exits non-zero if a step failed.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
# One kernel cache for every process (pytest workers, the example, the benchmark children).
export CUPY_CACHE_DIR="${CUPY_CACHE_DIR:-/tmp/tinytorch_cupy_cache}"
logs="${GPU_CHECK_LOGS:-/tmp/tinytorch_gpu_check}"
mkdir -p "$logs"
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
try:
    import torch
    print("torch", torch.__version__, "| torch.cuda:", torch.cuda.is_available())
except ImportError:
    print("torch not installed: the CUDA comparisons with PyTorch are skipped")
PY

echo "== tests: the whole suite; the device fixture adds a cuda case to every device-aware test"
workers=()
python -c "import xdist" 2>/dev/null && workers=(-n 8)
timeout 240 python -m pytest -q -p no:cacheprovider "${workers[@]}" tests >"$logs/tests.log" 2>&1 || status=1
grep -E "^(FAILED|ERROR)" "$logs/tests.log" | head -60
tail -3 "$logs/tests.log"
summary+=("tests: $(grep -E '(passed|failed)' "$logs/tests.log" | tail -1)")
summary+=("of which cuda cases: $(python -m pytest -q -p no:cacheprovider --co -k cuda tests 2>/dev/null | tail -1)")

echo "== the lecture's program on cuda (1 epoch)"
acc=$(timeout 90 python examples/mnist_mlp.py --device cuda --epochs 1 --no-progress --out /tmp/tinytorch_mnist_cuda 2>&1 | tee "$logs/mnist_cuda.log" | grep -E '^Accuracy' || echo "failed")
[ "$acc" = "failed" ] && { status=1; tail -20 "$logs/mnist_cuda.log"; }
summary+=("mnist 1 epoch on cuda: $acc ($(grep -E '^epoch 1 took' "$logs/mnist_cuda.log"))")

echo "== implicit synchronizations inside a training step (TINYTORCH_WARN_SYNC=1)"
TINYTORCH_WARN_SYNC=1 timeout 60 python - >"$logs/sync.log" 2>&1 <<'PY'
import warnings
import tinytorch
from tinytorch import nn, optim
model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)).cuda()
for name, make in (("SGD", lambda p: optim.SGD(p, lr=0.01, momentum=0.9)), ("Adam", lambda p: optim.Adam(p))):
    opt = make(model.parameters())
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
    print(f"{name}: {len(caught)} implicit synchronizations in 3 training steps")
PY
cat "$logs/sync.log"
summary+=("sync audit: $(grep -E 'implicit synchronizations in' "$logs/sync.log" | tr '\n' ' ')")

echo "== CUDA benchmarks (tinytorch vs PyTorch CUDA, each step case in a fresh process)"
timeout 180 python benchmarks/run.py --device cuda --cases step,epoch --repeats 5 --processes 1 >"$logs/bench.log" 2>&1 || status=1
tail -14 "$logs/bench.log"
cp benchmarks/results/latest-cuda.md benchmarks/results/latest-cuda.json "$logs/" 2>/dev/null

echo
echo "== summary"
for line in "${summary[@]}"; do echo "- $line"; done
echo "- benchmark table: benchmarks/results/latest-cuda.md; logs in $logs"
exit $status
