"""The argument rules of DDP's communication hooks and of Join, in one process (world size 1),
run on tinytorch (under ``mpiexec -n 1``) or on torch (gloo) by
tests/distributed/test_ddp_hooks_join.py, which compares what each printed:

    python ddp_hooks_errors.py tinytorch|torch

Each case prints one JSON line: its name, and the value it returned or the type and message of
the exception it raised.
"""

import json
import os
import sys
import warnings

import numpy as np

if sys.argv[1] == "torch":
    import torch as lib
    import torch.distributed as dist
    from torch.distributed.algorithms import Join, Joinable
    from torch.distributed.algorithms.ddp_comm_hooks import DDPCommHookType, default_hooks
    from torch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo", rank=0, world_size=1, init_method=f"tcp://127.0.0.1:{os.environ['PORT']}")
else:
    import tinytorch as lib
    import tinytorch.distributed as dist
    from tinytorch.distributed.algorithms import Join, Joinable
    from tinytorch.distributed.algorithms.ddp_comm_hooks import DDPCommHookType, default_hooks
    from tinytorch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")

warnings.simplefilter("ignore")
INPUT = np.arange(12, dtype=np.float32).reshape(4, 3) / 10


def model():
    lib.manual_seed(0)
    linear = lib.nn.Linear(3, 2)
    with lib.no_grad():
        linear.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        linear.bias.copy_(lib.tensor([0.05, -0.05]))
    return DDP(linear)


def step(ddp):
    """One backward; the gradients, rounded."""
    (ddp(lib.tensor(INPUT)) ** 2).sum().backward()
    return [np.round(p.grad.detach().numpy().astype(np.float64), 4).tolist() for p in ddp.module.parameters()]


def future_of(value):
    future = lib.futures.Future()
    future.set_result(value)
    return future


def with_hook(hook):
    ddp = model()
    ddp.register_comm_hook(None, hook)
    return step(ddp)


def bad_bucket_annotation(state, bucket: int):
    return future_of(bucket.buffer())


def bad_return_annotation(state, bucket) -> int:
    return future_of(bucket.buffer())


def annotated(state, bucket: dist.GradBucket) -> lib.futures.Future[lib.Tensor]:
    return future_of(bucket.buffer())


def register_twice():
    ddp = model()
    ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    ddp.register_comm_hook(None, default_hooks.allreduce_hook)


def bucket_seen():
    seen = {}

    def hook(state, bucket):
        seen.update(index=bucket.index(), is_last=bucket.is_last(), numel=bucket.buffer().numel(),
                    total=round(float(bucket.buffer().sum()), 4), shapes=sorted(list(g.shape) for g in bucket.gradients()),
                    parameters=sorted(list(p.shape) for p in bucket.parameters()))
        return future_of(bucket.buffer() * 2)  # doubled: the gradients too

    return {"gradients": with_hook(hook), **seen}


def join_one_rank(**kwargs):
    ddp = model()
    with ddp.join(**kwargs):
        grads = step(ddp)
    return grads


CASES = {
    "no_hook": lambda: step(model()),
    "allreduce_hook": lambda: with_hook(default_hooks.allreduce_hook),
    "fp16_compress_hook": lambda: with_hook(default_hooks.fp16_compress_hook),
    "fp16_compress_wrapper": lambda: with_hook(default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook)),
    "register_ddp_comm_hook": lambda: [m for m in ("ALLREDUCE", "FP16_COMPRESS") if hasattr(DDPCommHookType, m)],
    "bucket_seen_and_doubled": bucket_seen,
    "hook_not_callable": lambda: model().register_comm_hook(None, 5),
    "bad_bucket_annotation": lambda: model().register_comm_hook(None, bad_bucket_annotation),
    "bad_return_annotation": lambda: model().register_comm_hook(None, bad_return_annotation),
    "right_annotations": lambda: with_hook(annotated),
    "no_parameter_named_bucket": lambda: model().register_comm_hook(None, lambda state, grads: None),
    "registered_twice": register_twice,
    "future_of_a_number": lambda: with_hook(lambda state, bucket: future_of(3)),
    "future_of_a_list": lambda: with_hook(lambda state, bucket: dist.all_reduce(bucket.buffer(), async_op=True).get_future()),
    "future_of_a_wrong_size": lambda: with_hook(lambda state, bucket: future_of(lib.ones(2))),
    "join_nothing": lambda: Join([]),
    "join_not_a_joinable": lambda: Join([object()]),
    "joinable_is_abstract": lambda: Joinable(),
    "join_one_rank": join_one_rank,
    "join_one_rank_throwing": lambda: join_one_rank(throw_on_early_termination=True),
    "join_one_rank_dividing_by_active": lambda: join_one_rank(divide_by_initial_world_size=False),
    "join_disabled": lambda: join_one_rank(enable=False),
}

for name, case in CASES.items():
    try:
        outcome = {"value": case()}
    except Exception as error:  # noqa: BLE001  (the type and message are what is compared)
        outcome = {"error": type(error).__name__, "message": str(error)}
    if isinstance(outcome.get("value"), Join):
        outcome["value"] = "Join"
    print(json.dumps({"case": name, **outcome}), flush=True)
dist.destroy_process_group()
