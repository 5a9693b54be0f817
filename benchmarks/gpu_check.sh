#!/usr/bin/env bash
# The GPU check (issue 8): run from a plain working tree on a machine with an NVIDIA GPU, CuPy,
# NumPy, PyTorch (CUDA), pytest and hypothesis already installed. Installs nothing.
#   bash benchmarks/gpu_check.sh            # whole suite (cuda cases included), the example on cuda,
#                                           # sync audit, per-call costs, CUDA benchmarks; under 5 minutes
#   GPU_CHECK_LOGS=dir bash benchmarks/gpu_check.sh   # also keep the logs in dir
#   GPU_CHECK_STEPS=tests,bench GPU_CHECK_PYTEST_K="not cpu" ...  # a part of it (short leases)
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

want() { [[ ",${GPU_CHECK_STEPS:-tests,mnist,sync,overhead,bench}," == *",$1,"* ]]; }

if want tests; then
    echo "== tests: ${GPU_CHECK_PYTEST:-the whole suite} ${GPU_CHECK_PYTEST_K:+-k \"$GPU_CHECK_PYTEST_K\"}; the device fixture adds a cuda case to every device-aware test"
    workers=()
    python -c "import xdist" 2>/dev/null && workers=(-n 16)
    # -vv: one line per test as it ends, so a run cut short still names its failures.
    select=()
    [ -n "${GPU_CHECK_PYTEST_K:-}" ] && select=(-k "$GPU_CHECK_PYTEST_K")
    : >"$logs/failures.log"
    TINYTORCH_FAILURE_LOG="$logs/failures.log" timeout "${GPU_CHECK_TEST_SECONDS:-150}" python -m pytest -vv -p no:cacheprovider "${workers[@]}" --hypothesis-profile=noshrink \
        "${select[@]}" ${GPU_CHECK_PYTEST:-tests} >"$logs/tests.log" 2>&1 || status=1
    cut -c1-400 "$logs/failures.log" | head -40
    summary+=("tests: $(grep -E '[0-9]+ (passed|failed)' "$logs/tests.log" | tail -1) ($(grep -cE ' PASSED ' "$logs/tests.log") passed, $(grep -cE ' FAILED ' "$logs/tests.log") failed as listed)")
fi

if want mnist; then
    echo "== the lecture's program on cuda (1 epoch; on the CPU the same seed gives 0.948)"
    acc=$(timeout 40 python examples/mnist_mlp.py --device cuda --epochs 1 --no-progress --out /tmp/tinytorch_mnist_cuda 2>&1 | tee "$logs/mnist_cuda.log" | grep -E '^Accuracy' || echo "failed")
    [ "$acc" = "failed" ] && { status=1; tail -20 "$logs/mnist_cuda.log"; }
    summary+=("mnist 1 epoch on cuda: $acc ($(grep -E '^epoch 1 took' "$logs/mnist_cuda.log"))")
fi

if want sync; then
    echo "== synchronizations inside training steps (tinytorch.cuda.set_sync_debug_mode('warn'))"
    timeout 20 python benchmarks/sync_audit.py >"$logs/sync.log" 2>&1 || status=1
    tail -8 "$logs/sync.log"
    summary+=("sync audit: $(grep -E 'synchronizations in' "$logs/sync.log" | tr '\n' ' ')")
fi

if want overhead; then
    echo "== per-call costs, step phases and kernels (each contender in its own process)"
    timeout 45 python benchmarks/cuda_overhead.py --kernels "${GPU_CHECK_KERNELS:-1024}" >"$logs/overhead.log" 2>&1 || status=1
    cat "$logs/overhead.log"
fi

if want bench; then
    echo "== CUDA benchmarks (tinytorch vs PyTorch CUDA, each step case in a fresh process)"
    timeout "${GPU_CHECK_BENCH_SECONDS:-120}" python benchmarks/run.py --device cuda --cases "${GPU_CHECK_CASES:-step,epoch}" \
        --repeats 3 --processes 1 2>&1 | tee "$logs/bench.log" | grep -E "^\| (train|epoch)" || status=1
    cp benchmarks/results/latest-cuda.md "$logs/" 2>/dev/null
fi

echo
echo "== summary"
for line in "${summary[@]}"; do echo "- $line"; done
echo "- benchmark table: benchmarks/results/latest-cuda.md; logs in $logs"
exit $status
