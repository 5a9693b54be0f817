#!/usr/bin/env bash
# The GPU check (issue 8): run from a plain working tree on a machine with an NVIDIA GPU, CuPy,
# NumPy, PyTorch (CUDA), pytest and hypothesis already installed. Installs nothing.
#   bash benchmarks/gpu_check.sh            # whole suite (cuda cases included), the example on cuda,
#                                           # sync audit, per-call costs, CUDA benchmarks; under 5 minutes
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
python -c "import xdist" 2>/dev/null && workers=(-n 16)
timeout 110 python -m pytest -q -p no:cacheprovider "${workers[@]}" --hypothesis-profile=noshrink tests >"$logs/tests.log" 2>&1 || status=1
grep -E "^(FAILED|ERROR)" "$logs/tests.log" | cut -c1-200 | head -40
tail -2 "$logs/tests.log"
summary+=("tests: $(grep -E '(passed|failed)' "$logs/tests.log" | tail -1)")

echo "== the lecture's program on cuda (1 epoch; on the CPU the same seed gives 0.948)"
acc=$(timeout 35 python examples/mnist_mlp.py --device cuda --epochs 1 --no-progress --out /tmp/tinytorch_mnist_cuda 2>&1 | tee "$logs/mnist_cuda.log" | grep -E '^Accuracy' || echo "failed")
[ "$acc" = "failed" ] && { status=1; tail -20 "$logs/mnist_cuda.log"; }
summary+=("mnist 1 epoch on cuda: $acc ($(grep -E '^epoch 1 took' "$logs/mnist_cuda.log"))")

echo "== synchronizations inside training steps (tinytorch.cuda.set_sync_debug_mode('warn'))"
timeout 20 python benchmarks/sync_audit.py >"$logs/sync.log" 2>&1 || status=1
tail -8 "$logs/sync.log"
summary+=("sync audit: $(grep -E 'synchronizations in' "$logs/sync.log" | tr '\n' ' ')")

echo "== per-call costs and step phases (each contender in its own process)"
timeout 30 python benchmarks/cuda_overhead.py >"$logs/overhead.log" 2>&1 || status=1
cat "$logs/overhead.log"

echo "== CUDA benchmarks (tinytorch vs PyTorch CUDA, each step case in a fresh process)"
timeout 100 python benchmarks/run.py --device cuda --cases step,epoch --repeats 3 --processes 1 >"$logs/bench.log" 2>&1 || status=1
tail -10 "$logs/bench.log"
cp benchmarks/results/latest-cuda.md "$logs/" 2>/dev/null

echo
echo "== summary"
for line in "${summary[@]}"; do echo "- $line"; done
echo "- benchmark table: benchmarks/results/latest-cuda.md; logs in $logs"
exit $status
