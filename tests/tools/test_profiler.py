"""The profiler counts every op call (forward and backward) and prints a table like PyTorch's."""

import json

import pytest

import tinytorch
from tinytorch import profiler


def _rows(table):
    """{name: cells} of the table's body."""
    lines = table.splitlines()
    body = lines[3:lines.index(lines[0], 3)]
    return {line.split()[0]: line.split() for line in body}


def test_counts_match_the_ops_that_ran():
    x = tinytorch.randn(8, 4, requires_grad=True)
    w = tinytorch.randn(4, 4, requires_grad=True)
    with profiler.profile() as prof:
        h = x @ w
        h = h @ w
        loss = h.tanh().sum()
        loss.backward()
    averages = {a.key: a for a in prof.key_averages()}
    assert averages["MatMul"].count >= 2
    assert averages["MatMulBackward0"].count == 2
    assert averages["TanhBackward0"].count == 1
    assert averages["SumBackward0"].count == 1
    assert averages["Tanh"].count == 1
    assert averages["Tanh"].output_bytes == 8 * 4 * 4
    assert sum(a.count for a in averages.values()) == len(prof.events())
    assert {e.kind for e in prof.events()} == {"forward", "backward"}


def test_times_nest_self_time_excludes_children():
    x = tinytorch.randn(16, 16, requires_grad=True)
    with profiler.profile() as prof:
        with profiler.record_function("my step"):
            (x @ x).sum().backward()
    events = prof.events()
    step = next(e for e in events if e.name == "my step")
    assert step.kind == "user" and step.depth == 0
    inner = [e for e in events if e.depth == 1]
    assert inner and abs(step.self_cpu_time_total - (step.cpu_time_total - sum(e.cpu_time_total for e in inner))) < 1e-6
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total


def test_table_rows_sorting_and_row_limit():
    x = tinytorch.randn(4, 4, requires_grad=True)
    with profiler.profile() as prof:
        for _ in range(3):
            (x * 2).exp().sum().backward()
    table = prof.key_averages().table(sort_by="count", row_limit=3)
    assert "Name" in table and "Self CPU %" in table and "# of Calls" in table and "Self CPU time total:" in table
    rows = _rows(table)
    assert len(rows) == 3
    counts = [int(cells[-3]) for cells in rows.values()]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 3
    full = _rows(prof.key_averages().table(sort_by="cpu_time_total", row_limit=20))
    assert {"Mul", "Exp", "Sum", "MulBackward0", "ExpBackward0", "SumBackward0"} <= set(full)
    assert int(full["ExpBackward0"][-3]) == 3
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="nonsense")


def test_record_shapes_and_chrome_trace(tmp_path):
    a, b = tinytorch.randn(2, 3), tinytorch.randn(3, 5)
    with profiler.profile(record_shapes=True) as prof:
        a @ b
    event = next(e for e in prof.events() if e.name == "MatMul")
    assert event.input_shapes == [[2, 3], [3, 5]]
    assert "[[2, 3], [3, 5]]" in prof.key_averages(group_by_input_shape=True).table()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    assert json.loads(path.read_text())["traceEvents"][0]["name"] == "MatMul"


def test_nothing_is_recorded_outside_the_context():
    x = tinytorch.randn(3)
    with profiler.profile() as prof:
        pass
    x * 2
    with profiler.record_function("alone"):
        x + 1
    assert prof.events() == []
    assert not tinytorch.autograd._observe.state.active


def test_record_function_as_a_decorator_names_each_call():
    @profiler.record_function("helper")
    def helper(t):
        return t * 2

    x = tinytorch.randn(3)
    with profiler.profile() as prof:
        helper(x)
        helper(x)
    averages = {a.key: a for a in prof.key_averages()}
    assert averages["helper"].count == 2 and averages["Mul"].count == 2
    assert [e.depth for e in prof.events()] == [0, 1, 0, 1]
