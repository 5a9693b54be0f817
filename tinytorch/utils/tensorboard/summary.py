"""``Summary`` protocol buffers (TensorBoard's own, from the ``tensorboard`` package) for scalars,
histograms, images, text and hyperparameters, as ``torch.utils.tensorboard.summary`` makes them."""

import io

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.hparams import api_pb2 as hparams_api
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_data
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ... import _backend as backend
from ..._tensor import Tensor

__all__ = ["hparams", "histogram", "histogram_raw", "image", "make_histogram", "make_image", "scalar", "tensor_proto", "text"]


def make_np(x):
    """A NumPy array from a tinytorch tensor (detached, copied to the host), an array or a number."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        return backend.to_numpy(x._data)
    raise NotImplementedError(f"Got {type(x)}, but numpy array or tinytorch tensor are expected.")


def scalar(name, tensor, collections=None, new_style=False, double_precision=False):
    """A Summary holding one number (``simple_value``, or a tensor field with ``new_style``)."""
    tensor = make_np(tensor).squeeze()
    if tensor.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {tensor.size} and {tensor.ndim} dimensions.")
    value = float(tensor)
    if new_style:
        proto = TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision else TensorProto(float_val=[value], dtype="DT_FLOAT")
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
        return Summary(value=[Summary.Value(tag=name, tensor=proto, metadata=metadata)])
    return Summary(value=[Summary.Value(tag=name, simple_value=value)])


_TENSOR_TYPES = {  # numpy dtype kind+size -> (TensorProto dtype, value field)
    np.dtype(np.float16): ("DT_HALF", "half_val"), np.dtype(np.float32): ("DT_FLOAT", "float_val"),
    np.dtype(np.float64): ("DT_DOUBLE", "double_val"), np.dtype(np.int8): ("DT_INT8", "int_val"),
    np.dtype(np.uint8): ("DT_UINT8", "int_val"), np.dtype(np.int16): ("DT_INT16", "int_val"),
    np.dtype(np.int32): ("DT_INT32", "int_val"), np.dtype(np.int64): ("DT_INT64", "int64_val"),
    np.dtype(np.bool_): ("DT_BOOL", "bool_val"),
}


def tensor_proto(tag, tensor):
    """A Summary holding a whole tensor (TensorBoard's "tensor" plugin)."""
    array = make_np(tensor)
    if array.dtype not in _TENSOR_TYPES:
        raise ValueError(f"{tag} has unsupported tensor dtype {array.dtype}")
    dtype, field = _TENSOR_TYPES[array.dtype]
    values = array.reshape(-1).view(np.uint16).tolist() if dtype == "DT_HALF" else array.reshape(-1).tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=s) for s in array.shape]), **{field: values})
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="tensor"))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram Summary from its statistics and buckets (upper limits and counts)."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares, bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name, values, bins, max_bins=None):
    """A histogram Summary of ``values`` (any shape) over ``bins`` (as ``numpy.histogram`` takes them)."""
    return Summary(value=[Summary.Value(tag=name, histo=make_histogram(make_np(values).astype(float), bins, max_bins))])


def make_histogram(values, bins, max_bins=None):
    """The HistogramProto of ``values``: TensorBoard keeps the buckets' right limits, so the empty
    bucket left of the first non-empty one is kept to show where the data starts."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        subsampling = len(counts) // max_bins
        remainder = len(counts) % subsampling
        if remainder:
            counts = np.pad(counts, [[0, subsampling - remainder]], mode="constant", constant_values=0)
        counts = counts.reshape(-1, subsampling).sum(axis=-1)
        merged = np.empty((counts.size + 1,), limits.dtype)
        merged[:-1] = limits[:-1:subsampling]
        merged[-1] = limits[-1]
        limits = merged
    nonzero = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(nonzero, [0, nonzero[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1 : end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start : end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(), sum_squares=values.dot(values),
                          bucket_limit=limits.tolist(), bucket=counts.tolist())


def image(tag, tensor, rescale=1, dataformats="NCHW"):
    """An image Summary (a PNG): floats in [0, 1] or uint8 in [0, 255]; a batch becomes a grid."""
    array = convert_to_HWC(make_np(tensor), dataformats)
    scale = 1 if array.dtype == np.uint8 else 255
    array = (array.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(array, rescale=rescale))])


def make_image(tensor, rescale=1):
    """A ``Summary.Image`` (PNG bytes, encoded by Pillow) from an (H, W, C) uint8 array."""
    from PIL import Image

    height, width, channels = tensor.shape
    picture = Image.fromarray(tensor)
    if rescale != 1:
        picture = picture.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=buffer.getvalue())


def convert_to_HWC(tensor, input_format):
    """An (H, W, 3 or 4) array from one laid out as ``input_format`` (NCHW, NHWC, CHW, HWC, HW...)."""
    input_format = input_format.upper()
    if len(set(input_format)) != len(input_format):
        raise AssertionError(f"You can not use the same dimension shorthand twice. input_format: {input_format}")
    if tensor.ndim != len(input_format):
        raise AssertionError(f"size of input tensor and input format are different. tensor shape: {tensor.shape}, input_format: {input_format}")
    if len(input_format) == 4:
        return make_grid(tensor.transpose([input_format.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(input_format) == 3:
        hwc = tensor.transpose([input_format.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = tensor.transpose([input_format.find(c) for c in "HW"])
    return np.stack([hw] * 3, 2)


def make_grid(images, ncols=8):
    """(N, 1 or 3, H, W) images side by side, ``ncols`` a row, as one (3, H', W') array."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    count, _, height, width = images.shape
    ncols = min(count, ncols)
    nrows = int(np.ceil(count / ncols))
    canvas = np.zeros((3, height * nrows, width * ncols), dtype=images.dtype)
    for i in range(count):
        y, x = divmod(i, ncols)
        canvas[:, y * height : (y + 1) * height, x * width : (x + 1) * width] = images[i]
    return canvas


def text(tag, text):
    """A text Summary (TensorBoard renders it as Markdown)."""
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")], tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)])


def _hparams_summary(tag, **content):
    data = hparams_data.HParamsPluginData(version=hparams_metadata.PLUGIN_DATA_VERSION, **content)
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=hparams_metadata.PLUGIN_NAME, content=data.SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The three Summaries of TensorBoard's hparams plugin: the experiment (hyperparameter and
    metric names), the session start (the values) and the session end."""
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as hparam_dict[{k}].")
    infos = []
    start = hparams_data.SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, Tensor):
            v = float(make_np(v).reshape(-1)[0])
        # bool before number: a bool is an int in Python.
        if isinstance(v, bool):
            start.hparams[k].bool_value, field, kind = v, "bool_value", "DATA_TYPE_BOOL"
        elif isinstance(v, (int, float)):
            start.hparams[k].number_value, field, kind = v, "number_value", "DATA_TYPE_FLOAT64"
        elif isinstance(v, str):
            start.hparams[k].string_value, field, kind = v, "string_value", "DATA_TYPE_STRING"
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        domain = None
        if k in hparam_domain_discrete:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in hparam_domain_discrete[k]])
        infos.append(hparams_api.HParamInfo(name=k, type=hparams_api.DataType.Value(kind), domain_discrete=domain))
    metrics = [hparams_api.MetricInfo(name=hparams_api.MetricName(tag=k)) for k in metric_dict]
    experiment = _hparams_summary(hparams_metadata.EXPERIMENT_TAG, experiment=hparams_api.Experiment(hparam_infos=infos, metric_infos=metrics))
    session_start = _hparams_summary(hparams_metadata.SESSION_START_INFO_TAG, session_start_info=start)
    end = hparams_data.SessionEndInfo(status=hparams_api.Status.Value("STATUS_SUCCESS"))
    session_end = _hparams_summary(hparams_metadata.SESSION_END_INFO_TAG, session_end_info=end)
    return experiment, session_start, session_end
