"""tinytorch/_threads.py: large elementwise work split over threads gives the bits one thread
gives, keeps the caller's NumPy error state, hands errors back, and stays correct when several
threads or a forked child use it, on OpenBLAS's threads and on Python's."""

import os
import threading

import numpy as np
import pytest

import tinytorch
from tinytorch import _backend, _threads

torch = pytest.importorskip("torch")


@pytest.fixture(params=["openblas", "python"])
def threads(request, monkeypatch):
    """Let the split use up to 3 threads whatever this machine has (restored afterwards), on
    OpenBLAS's thread server (where NumPy's OpenBLAS has one and two or more threads) and on
    Python's helper threads."""
    if request.param == "openblas":
        if _threads._server is None or _threads._server.count() < 2:
            pytest.skip("NumPy's OpenBLAS thread server is not here, or runs one thread")
    else:
        monkeypatch.setattr(_threads, "_server", None)
    previous = _threads._threads
    _threads.set_threads(3)
    yield request.param
    _threads.set_threads(previous)


@pytest.mark.parametrize("ufunc", [np.exp, np.tanh, np.log])
@pytest.mark.parametrize("shape", [(700, 1000), (3, 100_000), (400_001,)])
def test_split_gives_the_bits_of_one_thread(threads, ufunc, shape):
    data = np.random.default_rng(0).uniform(0.1, 4, shape).astype(np.float32)
    assert _threads.blocks(data.size, data.size) > 1
    np.testing.assert_array_equal(_backend.unary(ufunc, data), ufunc(data))
    out = data.copy()
    assert _backend.unary(ufunc, out, out=out) is out
    np.testing.assert_array_equal(out, ufunc(data))


def test_small_or_strided_arrays_are_not_split(threads, monkeypatch):
    calls = []
    monkeypatch.setattr(_threads, "split_rows", lambda *a: calls.append(a))
    data = np.ones((1000, 200), np.float32)
    np.testing.assert_array_equal(_backend.unary(np.exp, data[:, ::2]), np.exp(data[:, ::2]))
    np.testing.assert_array_equal(_backend.unary(np.exp, data[:10]), np.exp(data[:10]))
    assert calls == []


def test_the_callers_error_state_holds_in_every_block(threads):
    data = np.full(600_000, 1000.0, np.float32)  # exp overflows in every block
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        _backend.unary(np.exp, data)
    with np.errstate(over="ignore"):
        assert np.isinf(_backend.unary(np.exp, data)).all()


def test_an_error_in_a_block_reaches_the_caller_after_all_blocks(threads):
    seen = []

    def work(block):
        seen.append(len(block))
        if block[0] > 0:
            raise ValueError("block failed")

    data = np.arange(600_000, dtype=np.float32)
    with pytest.raises(ValueError, match="block failed"):
        _threads.split_rows(work, data)
    assert sum(seen) == data.size
    _threads.split_rows(lambda block: block.__imul__(2), data)  # the helpers still work
    np.testing.assert_array_equal(data, np.arange(600_000, dtype=np.float32) * 2)


def test_splits_from_several_threads_at_once(threads):
    data = [np.random.default_rng(i).standard_normal(500_000).astype(np.float32) for i in range(4)]
    results = [None] * 4

    def run(i):
        for _ in range(20):
            results[i] = _backend.unary(np.exp, data[i])

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for i in range(4):
        np.testing.assert_array_equal(results[i], np.exp(data[i]))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_makes_its_own_helpers(threads):
    data = np.random.default_rng(0).standard_normal(500_000).astype(np.float32)
    _backend.unary(np.exp, data)  # the parent's helpers exist before the fork
    pid = os.fork()
    if pid == 0:
        ok = np.array_equal(_backend.unary(np.exp, data), np.exp(data))
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_set_num_threads_one_turns_the_split_off():
    previous = _threads._threads
    try:
        tinytorch.set_num_threads(1)
        assert _threads.blocks(10**6, 10**6) == 1
    finally:
        _threads.set_threads(previous)
        tinytorch.set_num_threads(os.cpu_count() or 1)


def test_large_softmax_and_cross_entropy_match_torch(threads):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((300, 2000)).astype(np.float32) * 3
    target = rng.integers(0, 2000, 300)
    ours, theirs = tinytorch.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    for f in ("softmax", "log_softmax"):
        np.testing.assert_allclose(getattr(tinytorch.nn.functional, f)(ours, -1).detach().numpy(),
                                   getattr(torch.nn.functional, f)(theirs, -1).detach().numpy(), rtol=1e-5, atol=1e-6)
    loss = tinytorch.nn.functional.cross_entropy(ours, tinytorch.tensor(target))
    reference = torch.nn.functional.cross_entropy(theirs, torch.tensor(target))
    loss.backward()
    reference.backward()
    np.testing.assert_allclose(loss.item(), reference.item(), rtol=1e-5)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("count", [2 * _threads.ALIGN, 1000, 65536 * 2 + 17, 10**6 + 3])
def test_pieces_cover_the_range_in_order_at_aligned_cuts(threads, count):
    bounds = _threads.pieces(count, minimum=0)
    assert bounds[0] == 0 and bounds[-1] == count and len(bounds) - 1 == min(_threads._width(), count // _threads.ALIGN)
    assert all(lo < hi for lo, hi in zip(bounds, bounds[1:]))
    assert all(cut % _threads.ALIGN == 0 for cut in bounds[:-1])
    assert _threads.pieces(count, minimum=count + 1) == [0, count]


def test_pieces_run_on_their_own_threads(threads):
    seen = {}
    data = np.arange(400_000, dtype=np.float64)
    out = np.empty_like(data)

    def piece(lo, hi):
        seen[lo] = threading.get_ident()
        np.sqrt(data[lo:hi], out=out[lo:hi])

    bounds = _threads.pieces(data.size)
    _threads.run(piece, bounds)
    np.testing.assert_array_equal(out, np.sqrt(data))
    assert sorted(seen) == bounds[:-1] and len(bounds) > 2
    if threads == "openblas":  # (a Python helper's piece is run by the caller if it has not started)
        assert _threads._server.works and len(set(seen.values())) == len(bounds) - 1


def test_blas_calls_and_splits_inside_a_piece_run_on_its_thread(threads):
    # A product inside a piece must not wait for OpenBLAS's other threads (they run the other
    # pieces), and a split asked for inside a piece runs there, whole.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 300, 300))
    products, inner = {}, {}

    def piece(lo, hi):
        products[lo] = a @ b
        inner[lo] = []
        _threads.run(lambda i, j: inner[lo].append((i, j, threading.get_ident())), [0, 5, 10])

    bounds = _threads.pieces(10**6)
    _threads.run(piece, bounds)
    for lo in bounds[:-1]:
        np.testing.assert_allclose(products[lo], a @ b, rtol=1e-12)
        assert [(i, j) for i, j, _ in inner[lo]] == [(0, 5), (5, 10)] and len({t for _, _, t in inner[lo]}) == 1
    assert np.array_equal(a @ b, a @ b)  # OpenBLAS's count is back: products still run


def test_errors_in_pieces_reach_the_caller_after_all_pieces(threads):
    done = []

    def piece(lo, hi):
        done.append(lo)
        if lo:
            raise KeyError(lo)

    bounds = _threads.pieces(10**6)
    with pytest.raises(KeyError):
        _threads.run(piece, bounds)
    assert sorted(done) == bounds[:-1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_runs_pieces_on_its_own_threads(threads):
    data = np.random.default_rng(0).standard_normal(500_000)
    out = np.empty_like(data)

    def piece(lo, hi):
        np.sqrt(np.abs(data[lo:hi]), out=out[lo:hi])

    bounds = _threads.pieces(data.size)
    _threads.run(piece, bounds)  # the parent's threads have run pieces before the fork
    pid = os.fork()
    if pid == 0:
        out[:] = 0
        _threads.run(piece, bounds)
        os._exit(0 if np.array_equal(out, np.sqrt(np.abs(data))) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    out[:] = 0
    _threads.run(piece, bounds)  # and the parent's still do
    np.testing.assert_array_equal(out, np.sqrt(np.abs(data)))
