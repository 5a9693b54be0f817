"""autograd.graph: saved-tensor hooks (pack when saved, unpack when backward reads), save_on_cpu,
disable_saved_tensors_hooks, Node and increment_version, checked for both libraries alike."""

import threading

import numpy as np
import pytest

import tinytorch

LIBS = ["tinytorch", "torch"]


def _lib(name):
    return pytest.importorskip(name)


class _Square:
    """A custom Function that saves its input and reads it twice in backward."""

    @staticmethod
    def make(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, grad):
                (a,) = ctx.saved_tensors
                (again,) = ctx.saved_tensors
                return (a + again) * grad

        return Square


@pytest.mark.parametrize("lib_name", LIBS)
def test_pack_once_when_saved_unpack_each_read(lib_name):
    lib = _lib(lib_name)
    packed, unpacked = [], []

    def pack(t):
        packed.append(tuple(t.shape))
        return ("box", t.detach().clone())

    def unpack(box):
        unpacked.append(box[0])
        return box[1]

    a = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        b = _Square.make(lib).apply(a)
    assert packed == [(2,)] and unpacked == []
    b.sum().backward()
    assert unpacked == ["box", "box"] and a.grad.tolist() == [2.0, 4.0]
    c = _Square.make(lib).apply(a)  # outside the context: no hooks
    c.sum().backward()
    assert packed == [(2,)] and a.grad.tolist() == [4.0, 8.0]


@pytest.mark.parametrize("lib_name", LIBS)
def test_built_in_ops_saved_tensors_go_through_the_hooks(lib_name):
    """A layer's inputs, weights and outputs are packed; the gradients are those without hooks,
    also after the saved input was changed in place (the hook's copy is used, no version error)."""
    lib = _lib(lib_name)
    rng = np.random.default_rng(0)
    x_data, w_data = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    grads = []
    for hooked in (False, True):
        x, w = lib.tensor(x_data, requires_grad=True), lib.tensor(w_data, requires_grad=True)
        packed = []

        def pack(t, packed=packed):
            packed.append(t)
            return t.detach().clone()

        context = lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t)
        with context if hooked else lib.autograd.graph.disable_saved_tensors_hooks("off"):
            h = x * 1
            y = (lib.nn.functional.linear(h, w).relu() ** 2).sum()
        if hooked:
            assert packed
            with lib.no_grad():
                h.mul_(10)  # after packing: the clone is what backward reads
        y.backward()
        grads.append((x.grad.numpy().copy(), w.grad.numpy().copy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("lib_name", LIBS)
def test_double_backward_through_unpacked_leaves(lib_name):
    lib = _lib(lib_name)
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
        y = (a * a * a).sum()
    (g,) = lib.autograd.grad(y, a, create_graph=True)
    g.sum().backward()
    assert a.grad.tolist() == [6.0, 12.0]


@pytest.mark.parametrize("lib_name", LIBS)
def test_hook_errors(lib_name):
    lib = _lib(lib_name)
    graph = lib.autograd.graph
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t, lambda t: 5):
        y = (a * a).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.backward()
    with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
        with graph.saved_tensors_hooks(lambda t: t.detach().add_(1), lambda t: t):
            (a * 2) * (a * 2)
    with pytest.raises(RuntimeError, match="^no hooks here$"):
        with graph.disable_saved_tensors_hooks("no hooks here"):
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # enabled again afterwards
        (a * a).sum().backward()


@pytest.mark.parametrize("lib_name", LIBS)
def test_node_type_and_increment_version(lib_name):
    lib = _lib(lib_name)
    graph = lib.autograd.graph
    a = lib.tensor([1.0], requires_grad=True)
    y = a.exp() * 2
    assert isinstance(y.grad_fn, graph.Node) and isinstance(y.grad_fn.next_functions[0][0], graph.Node)
    assert not isinstance(a, graph.Node)
    h = a * 1
    q = h * h
    graph.increment_version(h)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        q.backward()


def test_save_on_cpu_keeps_saved_tensors_on_the_host(device):
    seen = []
    graph = tinytorch.autograd.graph
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True, device=device)
    hooks = graph.save_on_cpu()
    pack = hooks.pack_hook
    hooks.pack_hook = lambda t: seen.append(pack(t)) or seen[-1]  # what save_on_cpu keeps
    with hooks:
        y = (a.exp() * a).sum()
    assert seen and all(packed[1].device.type == "cpu" and packed[0] == a.device for packed in seen)
    y.backward()
    assert a.grad.device == a.device
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(a.grad.cpu().numpy(), e * np.array([1.0, 2.0]) + e, rtol=1e-5)


def test_hooks_hold_on_their_own_thread_only():
    graph = tinytorch.autograd.graph
    packed, other = [], []
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True)

    def elsewhere():
        other.append((a * a).grad_fn)

    with graph.saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert packed == []  # the other thread's op saved without the hooks
        (a * a).sum()
    assert packed == [1, 1]
