"""Per-case setup for the tests parametrized over ``cases.CASES``."""

import pytest


@pytest.fixture(autouse=True)
def _torch_default_dtype_for_the_case(request):
    """float64 as torch's default dtype while a case flagged ``torch_float64_default`` runs: torch's
    GeneralizedPareto compares float64 parameters with ``torch.tensor(0.0)`` and raises "Double did
    not match Float" otherwise (tinytorch has no such limit). Only torch's side changes. A run with
    float32 parameters (``dtype_name``) keeps float32, which then matches them."""
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if not getattr(params.get("case"), "torch_float64_default", False) or params.get("dtype_name", "float64") != "float64":
        yield
        return
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
