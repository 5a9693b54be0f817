"""Weights enums and the model registry, with torchvision's API (``ResNet18_Weights.DEFAULT``,
``weights.transforms()``, ``get_model("resnet18")``, ``list_models()``).

tinytorch downloads nothing. Pretrained weights are read from a local safetensors file named for
torchvision's checkpoint, in ``$TINYTORCH_HOME/hub/checkpoints`` (``TINYTORCH_HOME`` defaults to
``$XDG_CACHE_HOME/tinytorch``, i.e. ``~/.cache/tinytorch``): for ``ResNet18_Weights.IMAGENET1K_V1``
(``.../resnet18-f37072fd.pth``) that is ``resnet18-f37072fd.safetensors``. Make it once, where
PyTorch is installed, from torchvision's own file::

    import torch, safetensors.torch
    safetensors.torch.save_file(torch.load("resnet18-f37072fd.pth"), "resnet18-f37072fd.safetensors")
"""

import fnmatch
import os
import warnings
from dataclasses import dataclass
from enum import Enum

from ...serialization import load as _load

_MODELS = {}  # name -> builder, filled by register_model


@dataclass(eq=False)
class Weights:
    """What a checkpoint is: its torchvision URL, the preset that prepares images for it, and facts about it."""

    url: str
    transforms: object
    meta: dict


class WeightsEnum(Enum):
    """The base of ``ResNet18_Weights`` and its kin: each member is a ``Weights``."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member: None, a member, or its name (``"DEFAULT"``, ``"ResNet18_Weights.IMAGENET1K_V1"``)."""
        if obj is None:
            return None
        if isinstance(obj, str):
            name = obj.replace(cls.__name__ + ".", "")
            if name not in cls.__members__:
                raise ValueError(f"{obj!r} is not a member of {cls.__name__}: one of {', '.join(cls.__members__)}")
            return cls[name]
        if not isinstance(obj, cls):
            raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        """The checkpoint's state_dict, from its local safetensors file (see the module docstring)."""
        return load_state_dict_from_url(self.url)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def checkpoint_dir():
    """Where pretrained weights are looked for: ``$TINYTORCH_HOME/hub/checkpoints``."""
    home = os.environ.get("TINYTORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinytorch"
    )
    return os.path.join(home, "hub", "checkpoints")


def load_state_dict_from_url(url):
    """The state_dict of torchvision's checkpoint ``url``, read from its local safetensors twin;
    FileNotFoundError naming the file to provide (and how to make it) when it is missing."""
    name = os.path.splitext(os.path.basename(url))[0] + ".safetensors"
    path = os.path.join(checkpoint_dir(), name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"tinytorch does not download pretrained weights: put them at {path} (the checkpoint {url} as "
            f"safetensors; where PyTorch is installed: safetensors.torch.save_file(torch.load({os.path.basename(url)!r}), "
            f"{name!r})), or set TINYTORCH_HOME to the folder above hub/checkpoints"
        )
    return _load(path)


def _ovewrite_named_param(kwargs, name, value):
    """Pretrained weights fix ``num_classes``: torchvision's check of a conflicting argument."""
    if name in kwargs:
        if kwargs[name] != value:
            raise ValueError(f"The parameter '{name}' expected value {value} but got {kwargs[name]} instead.")
    else:
        kwargs[name] = value


def _legacy_weights(kwargs, weights, default):
    """torchvision's old ``pretrained=True`` (the ``default`` weights), with its deprecation warnings."""
    if "pretrained" not in kwargs:
        return weights
    pretrained = kwargs.pop("pretrained")
    warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use 'weights' instead.",
                  UserWarning, stacklevel=3)
    if not pretrained:
        return weights
    warnings.warn(
        f"Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may be removed in the future. "
        f"The current behavior is equivalent to passing `weights={default!r}`. You can also use "
        f"`weights={type(default).__name__}.DEFAULT` to get the most up-to-date weights.",
        UserWarning, stacklevel=3,
    )
    return default


def _build(model, weights, progress):
    """Load ``weights`` (a member or None) into a freshly built ``model``."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress))
    return model


def register_model(name=None, weights_enum=None):
    """Register a model builder under ``name`` (its function name by default) for ``get_model``,
    with the enum of its weights for ``get_model_weights``."""

    def wrapper(builder):
        key = name if name is not None else builder.__name__
        if key in _MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        _MODELS[key] = builder
        builder._weights_enum = weights_enum
        return builder

    return wrapper


def list_models(module=None, include=None, exclude=None):
    """The names of the registered model builders, sorted."""
    names = sorted(k for k, v in _MODELS.items() if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__)
    if include is not None:
        names = sorted({n for pattern in ([include] if isinstance(include, str) else include) for n in fnmatch.filter(names, pattern)})
    if exclude is not None:
        for pattern in [exclude] if isinstance(exclude, str) else exclude:
            names = [n for n in names if not fnmatch.fnmatch(n, pattern)]
    return names


def get_model_builder(name):
    name = name.lower()
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """The model ``name`` built with ``config`` (``get_model("resnet18", weights=None)``)."""
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The weights enum of a model (its name or builder)."""
    builder = get_model_builder(name) if isinstance(name, str) else name
    return builder._weights_enum


def get_weight(name):
    """A weights member from its full name (``"ResNet50_Weights.IMAGENET1K_V2"``)."""
    enum_name, _, member = name.partition(".")
    for builder in _MODELS.values():
        enum = builder._weights_enum
        if enum.__name__ == enum_name:
            return enum[member]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
