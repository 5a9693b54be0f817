"""``RemovableHandle``: what every ``register_*hook`` returns (tensors, autograd nodes, modules),
as ``torch.utils.hooks.RemovableHandle``. It lives below every layer that registers hooks."""


class RemovableHandle:
    """Returned by the register_*hook methods; ``remove()`` unregisters the hook.

    Hooks are kept in a dict keyed by ``handle.id`` (registration order); ``extra_dict`` names
    more dicts (or a list of them) whose entry under the same id goes away with the hook.
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dicts = [] if extra_dict is None else (extra_dict if isinstance(extra_dict, list) else [extra_dict])

    def remove(self):
        for d in [self.hooks_dict, *self.extra_dicts]:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks_dict, hook):
    """File ``hook`` in ``hooks_dict`` under a new handle's id and return the handle."""
    handle = RemovableHandle(hooks_dict)
    hooks_dict[handle.id] = hook
    return handle
