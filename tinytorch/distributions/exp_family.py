"""``ExponentialFamily``: distributions of the form p(x; theta) = exp(<t(x), theta> - F(theta) + k(x))."""

from .. import autograd
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """The base of exponential-family distributions: from the natural parameters ``theta``, the
    log-normalizer ``F`` and the carrier measure ``k``, the entropy (and the KL divergence
    between two members of one family) follow by the Bregman divergence of ``F``, whose gradient
    autograd supplies."""

    @property
    def _natural_params(self):
        """The natural parameters, a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta), from the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(x)]."""
        raise NotImplementedError

    def entropy(self):
        """-E[k(x)] + F(theta) - <theta, grad F(theta)>."""
        result = -self._mean_carrier_measure
        natural = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*natural)
        gradients = autograd.grad(log_normalizer.sum(), natural, create_graph=True)
        result = result + log_normalizer
        for parameter, gradient in zip(natural, gradients):
            result = result - (parameter * gradient).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
