#!/usr/bin/python3
"""make-detect.py: writes a detection-style ONNX model for benchmarks.

    /usr/bin/python3 bench/models/make-detect.py [OUT.onnx]   (default build/bench/detect.onnx)

A benchmark-only developer aid (Debian's python3-onnx and numpy); frost and
its tests never need it. The network follows the pattern of small mobile
detectors, input `image` 1x3x320x320, random weights from a fixed seed:

  stem      Conv 3x3 s2 + BatchNormalization + HardSwish            (1/2)
  blocks    depthwise 3x3 (s1 or s2) + BN + ReLU or HardSwish,
            squeeze-excite (GlobalAveragePool, 1x1 Conv, ReLU, 1x1 Conv,
            Sigmoid or HardSigmoid, Mul over the map), pointwise 1x1 + BN
            (a residual Add where the shape stays), MobileNet-like
            widths 32 to 512                                        (1/2 .. 1/32)
  neck      FPN: 1x1 laterals; Resize x2 nearest (asymmetric, floor),
            Concat, 1x1; Resize x2 linear (half_pixel), Concat, 1x1;
            Resize to sizes, nearest (round_prefer_floor, half_pixel)
  head      ConvTranspose 4x4 stride 2 (1/8 -> 1/4), ReLU, Concat with the
            resized 1/8 map, depthwise 3x3 + 1x1, 1x1 Convs to heatmaps
            (Sigmoid) and box sizes

Outputs `heatmap` 1x8x80x80 and `boxes` 1x4x80x80.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261202)
nodes, inits = [], []
count = [0]


def name(kind):
    count[0] += 1
    return f"{kind}_{count[0]}"


def const(arr, kind="w"):
    n = name(kind)
    inits.append(numpy_helper.from_array(np.asarray(arr), n))
    return n


def node(op, ins, **attrs):
    out = name(op.lower())
    nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
    return out


def conv(x, cin, cout, k=1, stride=1, group=1, bias=True):
    fan = cin // group * k * k
    w = rng.normal(0, np.sqrt(2.0 / fan), (cout, cin // group, k, k)).astype(np.float32)
    ins = [x, const(w)]
    if bias:
        ins.append(const(rng.normal(0, 0.05, cout).astype(np.float32), "b"))
    return node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                pads=[k // 2] * 4, group=group)


def bn(x, c):
    scale = rng.uniform(0.5, 1.5, c).astype(np.float32)
    bias = rng.normal(0, 0.1, c).astype(np.float32)
    mean = rng.normal(0, 0.1, c).astype(np.float32)
    var = rng.uniform(0.5, 1.5, c).astype(np.float32)
    return node("BatchNormalization",
                [x, const(scale, "s"), const(bias, "b"), const(mean, "m"), const(var, "v")],
                epsilon=1e-5)


def act(x, kind):
    return node("HardSwish" if kind == "hs" else "Relu", [x])


def squeeze_excite(x, c, gate):
    s = node("GlobalAveragePool", [x])
    s = node("Relu", [conv(s, c, max(8, c // 4))])
    s = conv(s, max(8, c // 4), c)
    s = node("Sigmoid", [s]) if gate == "sigmoid" else node("HardSigmoid", [s], alpha=1 / 6, beta=0.5)
    return node("Mul", [x, s])


def block(x, cin, cout, stride, a, gate):
    """Depthwise-separable block with squeeze-excite."""
    y = act(bn(conv(x, cin, cin, 3, stride, group=cin, bias=False), cin), a)
    y = squeeze_excite(y, cin, gate)
    y = bn(conv(y, cin, cout, bias=False), cout)
    return node("Add", [x, y]) if stride == 1 and cin == cout else y


def resize(x, mode, coord, nearest=None, scales=None, sizes=None):
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    if nearest:
        attrs["nearest_mode"] = nearest
    ins = [x, ""]
    if scales is not None:
        ins.append(const(np.array(scales, np.float32), "scales"))
    else:
        ins += ["", const(np.array(sizes, np.int64), "sizes")]
    return node("Resize", ins, **attrs)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/bench/detect.onnx"
    x = act(bn(conv("image", 3, 16, 3, 2, bias=False), 16), "hs")           # 16 x 160
    x = block(x, 16, 32, 1, "relu", "sigmoid")                               # 32 x 160
    x = block(x, 32, 64, 2, "relu", "sigmoid")                               # 64 x 80
    x = block(x, 64, 64, 1, "relu", "sigmoid")
    x = block(x, 64, 128, 2, "hs", "hsig")                                   # 128 x 40
    c3 = block(x, 128, 128, 1, "hs", "hsig")
    x = block(c3, 128, 256, 2, "hs", "hsig")                                 # 256 x 20
    for _ in range(2):
        x = block(x, 256, 256, 1, "hs", "sigmoid")
    c4 = block(x, 256, 256, 1, "hs", "hsig")
    x = block(c4, 256, 512, 2, "hs", "hsig")                                 # 512 x 10
    c5 = block(x, 512, 512, 1, "hs", "hsig")
    # neck
    p5 = node("Relu", [conv(c5, 512, 64)])
    u5 = resize(p5, "nearest", "asymmetric", "floor", scales=[1, 1, 2, 2])  # 64 x 20
    p4 = node("Concat", [node("Relu", [conv(c4, 256, 64)]), u5], axis=1)
    p4 = node("Relu", [conv(p4, 128, 64)])
    u4 = resize(p4, "linear", "half_pixel", scales=[1, 1, 2, 2])            # 64 x 40
    p3 = node("Concat", [node("Relu", [conv(c3, 128, 64)]), u4], axis=1)
    p3 = node("Relu", [conv(p3, 128, 64)])
    # head: transposed conv to 1/4, and the 1/8 map brought up by Resize
    w = rng.normal(0, np.sqrt(2.0 / (64 * 16)), (64, 32, 4, 4)).astype(np.float32)
    h = node("ConvTranspose", [p3, const(w), const(np.zeros(32, np.float32), "b")],
             kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1])        # 32 x 80
    u3 = resize(p3, "nearest", "half_pixel", "round_prefer_floor", sizes=[1, 64, 80, 80])
    h = node("Concat", [node("Relu", [h]), u3], axis=1)                       # 96 x 80
    h = node("Relu", [conv(conv(h, 96, 96, 3, group=96), 96, 32)])
    heat = node("Sigmoid", [conv(h, 32, 8)])
    boxes = conv(h, 32, 4)
    nodes.append(helper.make_node("Identity", [heat], ["heatmap"], name="out_heatmap"))
    nodes.append(helper.make_node("Identity", [boxes], ["boxes"], name="out_boxes"))
    graph = helper.make_graph(
        nodes, "detect",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("heatmap", TensorProto.FLOAT, [1, 8, 80, 80]),
         helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 4, 80, 80])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)],
                              producer_name="frost bench/models/make-detect.py")
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    onnx.save(model, out)
    print(out)


if __name__ == "__main__":
    main()
