"""``torch.distributed.algorithms.join``: training on uneven inputs.

A rank that runs out of inputs leaves the training loop and enters ``Join.__exit__``, where it
*shadows* the collectives the ranks still training issue each iteration (its ``JoinHook``s'
``main_hook``), until an all-reduce of "I have not joined" flags says every rank has joined;
then each hook's ``post_hook`` runs once. A ``Joinable`` (``DistributedDataParallel``) calls
``Join.notify_join_context(self)`` before its own collectives of an iteration, which contributes
its 1 to that count. The protocol, message for message, is PyTorch's.
"""

import warnings
from abc import ABC, abstractmethod
from typing import NamedTuple

from ... import _creation
from .. import distributed_c10d as dist

__all__ = ["JoinHook", "Joinable", "Join"]

# The "not joined" all-reduces in flight. A caller may drop the Work notify_join_context returns
# (PyTorch's process group keeps it); here MPI would then write into a freed buffer, so they are
# kept until they are done.
_notifications_in_flight = []


class JoinHook:
    """What a ``Joinable`` does inside ``Join`` once its rank has joined: ``main_hook()`` shadows
    one iteration's collectives while some rank still trains; ``post_hook(is_last_joiner)`` runs
    once every rank has joined. Both do nothing by default."""

    def main_hook(self):
        """Shadow the collectives of one training iteration of the ranks that have not joined."""

    def post_hook(self, is_last_joiner):
        """Run once every rank has joined; ``is_last_joiner`` says whether this rank was among the last."""


class _JoinConfig(NamedTuple):
    """What ``Join`` tells each of its joinables."""

    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(ABC):
    """A class that can take part in ``Join``: it gives a ``join_hook``, the ``join_device`` and
    ``join_process_group`` of the context's own all-reduces, and calls
    ``Join.notify_join_context(self)`` before its collectives of each iteration."""

    @abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs):
        """The ``JoinHook`` of this joinable (``kwargs``: those given to ``Join``)."""

    @property
    @abstractmethod
    def join_device(self):
        """The device of the join context's all-reduces."""

    @property
    @abstractmethod
    def join_process_group(self):
        """The process group of the join context's all-reduces."""


class Join:
    """Context manager for uneven inputs: ranks that leave the ``with`` block early shadow the
    collectives of ``joinables`` on the ranks still inside, so that none hangs; with
    ``throw_on_early_termination=True`` every rank raises ``RuntimeError`` as soon as one has run
    out instead. ``enable=False`` turns it off (inputs known to be even). Keyword arguments go to
    every joinable's ``join_hook``."""

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = joinables
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in self._joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        self._set_joinable_configs()
        self._extract_dist_info()

    def _set_joinable_configs(self):
        is_first_joinable = True
        for joinable in self._joinables:
            joinable._join_config = _JoinConfig(enable=self._enable, throw_on_early_termination=self._throw_on_early_termination,
                                                is_first_joinable=is_first_joinable)
            is_first_joinable = False

    def _extract_dist_info(self):
        process_group, device = None, None
        for joinable in self._joinables:
            if process_group is None:
                process_group = joinable.join_process_group
            elif process_group != joinable.join_process_group:
                raise ValueError("Using join context manager with multiple process groups")
            if device is None:
                device = joinable.join_device
        self._process_group = process_group
        self._rank = dist.get_rank(self._process_group)
        self._device = device

    def __enter__(self):
        ...

    def __exit__(self, type, value, traceback):
        """Shadow the other ranks' iterations until every rank has joined, then run the post-hooks."""
        if not self._enable or type:
            return  # an exception from the block propagates as it is
        all_procs_joined = False
        is_last_joiner = True
        i = 0
        WARN_THRESHOLD = 1000
        while not all_procs_joined:
            if i > WARN_THRESHOLD:
                warnings.warn(
                    f"Detected uneven input skew of greater than {WARN_THRESHOLD}. This means that rank {self._rank} "
                    f"has at least {WARN_THRESHOLD} fewer inputs than other currently-active ranks. This level of skew "
                    "could lead to performance degradation during training.",
                    stacklevel=2,
                )
            if self._get_num_nonjoined_procs() == 0:
                all_procs_joined = True
            else:
                if self._throw_on_early_termination:
                    self._notify_procs_to_terminate()
                for join_hook in self._join_hooks:
                    join_hook.main_hook()
                is_last_joiner = False
                i += 1
        for join_hook in self._join_hooks:
            join_hook.post_hook(is_last_joiner)
        while _notifications_in_flight:  # every rank has joined: they are all done
            _notifications_in_flight.pop().wait()

    def _get_num_nonjoined_procs(self):
        """Shadow the ranks' "not joined" all-reduce (this rank adds 0): how many have not joined."""
        num_nonjoined_procs = _creation.zeros(1, device=self._device)
        dist.all_reduce(num_nonjoined_procs, group=self._process_group)
        return num_nonjoined_procs.item()

    def _notify_procs_to_terminate(self):
        """Answer the ranks' "should we throw" all-reduce with 1, and raise here too."""
        dist.all_reduce(_creation.ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(joinable):
        """Tell the join context that this rank has not joined yet (an all-reduce of 1, returned as
        a ``Work``; only the first joinable of a context communicates, the others get None). With
        ``throw_on_early_termination``, raise ``RuntimeError`` on every rank once one has joined."""
        if not hasattr(joinable, "_join_config"):
            raise AssertionError(f"Check that the {type(joinable)} constructor calls the ``Joinable`` constructor")
        join_config = joinable._join_config
        if not join_config.is_first_joinable or not join_config.enable:
            return None
        device = joinable.join_device
        process_group = joinable.join_process_group
        work = dist.all_reduce(_creation.ones(1, device=device), group=process_group, async_op=True)
        _notifications_in_flight[:] = [w for w in _notifications_in_flight if not w.is_completed()] + [work]
        if join_config.throw_on_early_termination:
            should_throw = _creation.zeros(1, device=device)
            dist.all_reduce(should_throw, group=process_group)
            if should_throw.item():
                work.wait()  # done already (the all-reduce above followed it); completes its request
                raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work
