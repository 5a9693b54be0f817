"""``nn.SyncBatchNorm``: batch normalization whose training statistics are those of the whole
global batch, split over the ranks of a process group, and the autograd Function behind it (PyTorch's
``torch/nn/modules/_functions.py`` ``SyncBatchNorm``), built from the ``torch.batch_norm_*`` primitives.

``tinytorch.distributed`` is not imported here: it is loaded lazily, and a program that never
imported it has no process group, so SyncBatchNorm is plain batch norm there (``sys.modules``
tells which).
"""

import sys

from ... import _creation as creation, _dtypes as dtypes, _ops
from ...autograd.function import Function
from .normalization import _BatchNorm


def _distributed():
    """``tinytorch.distributed`` if a program has loaded it, else None (then nothing is initialized)."""
    return sys.modules.get("tinytorch.distributed")


class _SyncBatchNormFunction(Function):
    """Training batch norm over every rank's batch: per-rank (mean, invstd, count) are all-gathered
    and combined, and backward all-reduces the per-channel gradient sums. With ``world_size`` 1
    and no group it runs the same arithmetic without collectives (the op table exercises it so)."""

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum, process_group, world_size):
        channels = input.shape[1]
        size = input.numel() // max(channels, 1)
        if size == 1 and world_size < 2:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
        if input.numel() > 0:
            mean, invstd = _ops.batch_norm_stats(input, eps)
            count = creation.full((1,), size, dtype=mean.dtype, device=mean.device)
            combined = _ops.cat([mean, invstd, count])
        else:  # an empty batch still takes part in the collective, with a zero count
            combined = creation.zeros(2 * channels + 1, dtype=input.dtype, device=input.device)
        if world_size > 1 or process_group is not None:
            gathered = [creation.zeros(combined.shape, dtype=combined.dtype, device=combined.device) for _ in range(world_size)]
            _distributed().all_gather(gathered, combined, process_group)
            combined = _ops.stack(gathered)
        else:
            combined = combined.reshape(1, -1)
        mean_all, invstd_all, count_all = combined[:, :channels], combined[:, channels:2 * channels], combined[:, 2 * channels:]
        counts = count_all.reshape(-1)
        if running_mean is not None and counts.dtype != running_mean.dtype:
            counts = counts.to(running_mean.dtype)
        mean, invstd = _ops.batch_norm_gather_stats_with_counts(
            input, mean_all, invstd_all, running_mean, running_var, momentum, eps, counts)
        ctx.save_for_backward(input, weight, mean, invstd, count_all.to(dtypes.int32))
        ctx.process_group, ctx.world_size = process_group, world_size
        if input.numel() > 0:
            return _ops.batch_norm_elemt(input, weight, bias, mean, invstd, eps)
        return creation.zeros(input.shape, dtype=input.dtype, device=input.device)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, mean, invstd, count = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_input = grad_weight = grad_bias = None
        collective = ctx.world_size > 1 or ctx.process_group is not None
        channels = input.shape[1]
        if input.numel() > 0:
            sum_dy, sum_dy_xmu, grad_weight, grad_bias = _ops.batch_norm_backward_reduce(
                grad_output, input, mean, invstd, weight, needs[0], needs[1], needs[2])
            if needs[0]:
                if collective:  # the input gradient needs the sums over every rank's batch
                    combined = _ops.cat([sum_dy, sum_dy_xmu])
                    if combined.requires_grad:  # create_graph: all_reduce writes in place
                        combined = combined.detach()
                    _distributed().all_reduce(combined, group=ctx.process_group)
                    sum_dy, sum_dy_xmu = combined[:channels], combined[channels:]
                if weight is not None and weight.dtype != mean.dtype:
                    weight = weight.to(mean.dtype)
                grad_input = _ops.batch_norm_backward_elemt(grad_output, input, mean, invstd, weight, sum_dy, sum_dy_xmu, count)
            # grad_weight and grad_bias stay per rank: DistributedDataParallel averages them.
            if weight is None or not needs[1]:
                grad_weight = None
            if weight is None or not needs[2]:
                grad_bias = None
        elif needs[0] and collective:  # an empty batch: join the all-reduce the other ranks wait in
            _distributed().all_reduce(creation.zeros(2 * channels, dtype=input.dtype, device=input.device), group=ctx.process_group)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over (N, C, *) inputs whose training statistics are computed over the
    batches of every rank of ``process_group`` (the default group when None). In evaluation, with
    one rank, or without an initialized process group it is ``BatchNorm``. Runs on CPU tensors too
    (PyTorch's requires a GPU)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        dist = _distributed()
        need_sync = self.training and dist is not None and dist.is_available() and dist.is_initialized()
        if need_sync:
            process_group = self.process_group if self.process_group else dist.group.WORLD
            world_size = dist.get_world_size(process_group)
            need_sync = world_size > 1
        if not need_sync:  # PyTorch falls back to F.batch_norm: _BatchNorm's forward is that
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        running_mean = self.running_mean if self.track_running_stats else None
        running_var = self.running_var if self.track_running_stats else None
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, running_mean, running_var, self.eps, factor,
                                            process_group, world_size)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d in it replaced by a SyncBatchNorm that shares its
        parameters, buffers and training flag (a BatchNorm itself comes back replaced)."""
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                          module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                module_output.weight = module.weight
                module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output
