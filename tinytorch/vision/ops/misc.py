"""``Conv2dNormActivation``: convolution, then normalization, then activation, as torchvision's."""

from ... import nn


class Conv2dNormActivation(nn.Sequential):
    """A ``Sequential`` of Conv2d, ``norm_layer`` (BatchNorm2d) and ``activation_layer`` (ReLU);
    the padding keeps the size at stride 1 ("same" for odd kernels), and the convolution has a
    bias only without a normalization. Its parts are numbered 0, 1, 2, as torchvision's."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels
