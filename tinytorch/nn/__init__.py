"""``tinytorch.nn``: modules, parameters, layers, losses, ``functional``, ``init`` and ``utils``."""

from . import functional, init, utils
from .modules.activation import (
    CELU, ELU, GELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish,
    MultiheadAttention, PReLU, ReLU, ReLU6, RReLU, SELU, Sigmoid, SiLU, Softmax, Softmax2d, Softmin, Softplus,
    Softshrink, Softsign, Tanh, Tanhshrink, Threshold,
)
from .modules.distance import CosineSimilarity, PairwiseDistance
from .modules.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from .modules.channelshuffle import ChannelShuffle
from .modules.linear import Bilinear, Identity, Linear
from .modules.normalization import (
    BatchNorm1d, BatchNorm2d, BatchNorm3d, CrossMapLRN2d, GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm,
)
from .modules.sparse import Embedding, EmbeddingBag
from .modules.container import Container, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .modules.flatten import Flatten, Unflatten
from .modules.fold import Fold, Unfold
from .modules.loss import (
    CosineEmbeddingLoss, HingeEmbeddingLoss, MarginRankingLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
    MultiMarginLoss, SoftMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss,
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, CTCLoss, GaussianNLLLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
    PoissonNLLLoss, SmoothL1Loss,
    LinearCrossEntropyLoss, NLLLoss2d,
)
from ._linear_cross_entropy import LinearCrossEntropyOptions
from .modules.module import Module
from .modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .modules.padding import (
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d,
)
from .modules.pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
    AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, FractionalMaxPool2d, FractionalMaxPool3d, LPPool1d, LPPool2d,
    LPPool3d, MaxPool1d, MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d,
)
from .modules.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from .modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from . import parallel
from .parallel import DataParallel


# Loaded at first use: the recurrent and transformer layers, the lazy modules, SyncBatchNorm and the
# adaptive softmax are ~90 KiB of source that a program without them would carry all its life
# (0.3 MiB of memory; the lecture's peak is held to 0.3x PyTorch's).
_LAZY = {
    **dict.fromkeys(("GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"), "rnn"),
    **dict.fromkeys(("Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
                     "TransformerEncoderLayer"), "transformer"),
    **dict.fromkeys(("LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
                     "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyInstanceNorm1d",
                     "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear"), "lazy"),
    "SyncBatchNorm": "batchnorm_sync",
    "AdaptiveLogSoftmaxWithLoss": "adaptive",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.modules.{module}"), name)
        globals()[name] = value  # bound here: called once per name
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
