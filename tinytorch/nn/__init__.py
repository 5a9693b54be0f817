"""``tinytorch.nn``: modules, parameters, layers, losses, ``functional``, ``init`` and ``utils``."""

from . import functional, init, utils
from .modules.activation import (
    ELU, GELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, MultiheadAttention, ReLU, ReLU6, Sigmoid,
    SiLU, Softmax, Softmin, Softplus, Tanh,
)
from .modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .modules.dropout import Dropout
from .modules.flatten import Flatten, Unflatten
from .modules.linear import Identity, Linear
from .modules.loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from .modules.module import Module
from .modules.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .parameter import Buffer, Parameter
from .modules.sparse import Embedding
from .modules.transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
