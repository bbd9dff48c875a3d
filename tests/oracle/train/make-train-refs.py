#!/usr/bin/python3
# make-train-refs.py: writes the PyTorch reference files that `frost train` is
# checked against (tests/oracle/train/<case>/). PyTorch is the oracle only:
# neither frost nor its tests import it; they read the files this script wrote.
#
# Run with Debian's python3-torch (1.13) and python3-onnx:
#     /usr/bin/python3 tests/oracle/train/make-train-refs.py [--only CASE,...] [OUTDIR]
# OUTDIR defaults to the folder of this script. See README.md beside it for
# what each file holds.

import json
import math
import os
import re
import shutil
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)

LOSS = "softmax cross-entropy, mean over the batch"


# ---------------------------------------------------------------- networks

class Mlp(nn.Module):
    """x (N, 8) -> fc1 -> relu -> fc2 -> logits (N, 3)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class ConvBn(nn.Module):
    """x (N, 1, 8, 8) -> conv 3x3 pad 1 (N, 4, 8, 8) -> bn -> relu
    -> maxpool 2 (N, 4, 4, 4) -> flatten (N, 64) -> fc -> logits (N, 3)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(64, 3)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(y, 1))


class DwSep(nn.Module):
    """x (N, 1, 6, 36) -> stem conv 3x3 pad 1 (N, 2, 6, 36) -> relu
    -> depthwise conv 3x3 stride 2 pad 1 (N, 2, 3, 18) -> bn -> relu
    -> pointwise conv (N, 4, 3, 18) -> relu -> global average pool
    -> flatten (N, 4) -> fc -> logits (N, 3). Rows of 36 and 18: the
    strided depthwise gradients run whole vectors of 16 lanes."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3, padding=1)
        self.dw = nn.Conv2d(2, 2, 3, stride=2, padding=1, groups=2)
        self.bn = nn.BatchNorm2d(2)
        self.pw = nn.Conv2d(2, 4, 1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        y = F.relu(self.bn(self.dw(F.relu(self.stem(x)))))
        y = F.adaptive_avg_pool2d(F.relu(self.pw(y)), 1)
        return self.fc(torch.flatten(y, 1))


def make_mlp():
    torch.manual_seed(1)
    return Mlp()


def make_conv_bn():
    torch.manual_seed(2)
    m = ConvBn()
    # Non-trivial BatchNorm state: the running statistics stay fixed (eval
    # mode throughout), gamma and beta start away from 1 and 0.
    with torch.no_grad():
        m.bn.running_mean.copy_(torch.tensor([0.10, -0.20, 0.05, 0.30]))
        m.bn.running_var.copy_(torch.tensor([0.50, 1.50, 0.80, 2.00]))
        m.bn.weight.copy_(torch.tensor([1.10, 0.90, 1.25, 0.80]))
        m.bn.bias.copy_(torch.tensor([0.05, -0.10, 0.20, 0.00]))
    return m


def make_dw_sep():
    torch.manual_seed(3)
    m = DwSep()
    with torch.no_grad():
        m.bn.running_mean.copy_(torch.tensor([0.05, -0.10]))
        m.bn.running_var.copy_(torch.tensor([0.60, 1.40]))
        m.bn.weight.copy_(torch.tensor([1.20, 0.85]))
        m.bn.bias.copy_(torch.tensor([0.10, -0.05]))
    return m


# ---------------------------------------------------------------- data

def mlp_data():
    """24 samples of 8 floats, label i % 3: class mean plus noise."""
    g = torch.Generator().manual_seed(11)
    means = torch.randn(3, 8, generator=g) * 1.5
    labels = torch.arange(24) % 3
    x = means[labels] + 0.7 * torch.randn(24, 8, generator=g)
    return x.float(), labels


def conv_data():
    """12 images 1x8x8, label i % 3: horizontal bar, vertical bar, diagonal,
    at a position that moves with i, plus noise."""
    g = torch.Generator().manual_seed(12)
    labels = torch.arange(12) % 3
    x = 0.3 * torch.randn(12, 1, 8, 8, generator=g)
    for i in range(12):
        c, pos = int(labels[i]), 1 + (i // 3) % 6
        if c == 0:
            x[i, 0, pos, :] += 1.0
        elif c == 1:
            x[i, 0, :, pos] += 1.0
        else:
            for j in range(8):
                x[i, 0, j, (j + pos) % 8] += 1.0
    return x.float(), labels


def wide_data():
    """12 images 1x6x36, label i % 3: a horizontal bar, a vertical bar,
    a diagonal, at a position that moves with i, plus noise."""
    g = torch.Generator().manual_seed(13)
    labels = torch.arange(12) % 3
    x = 0.3 * torch.randn(12, 1, 6, 36, generator=g)
    for i in range(12):
        c, pos = int(labels[i]), i // 3
        if c == 0:
            x[i, 0, 1 + pos % 4, :] += 1.0
        elif c == 1:
            x[i, 0, :, 3 + 7 * pos] += 1.0
        else:
            for j in range(6):
                x[i, 0, j, 5 * pos + j] += 1.0
    return x.float(), labels


def conv_data_mirrored():
    """conv_data's images made left-right symmetric ((x + flip(x)) / 2):
    a horizontal flip leaves them as they are, so --ssl's two views of a
    sample under --hflip are the same, whatever the random draws."""
    x, labels = conv_data()
    return ((x + torch.flip(x, dims=[3])) / 2).float(), labels


def nt_xent(z, temperature):
    """InfoNCE as SimCLR's NT-Xent: rows i and i + n/2 are two views of one
    sample; cosine similarities / temperature, the diagonal left out, each
    row's class its other view; mean over the 2n rows."""
    n = z.shape[0]
    u = z / torch.sqrt((z * z).sum(dim=1, keepdim=True) + 1e-12)
    s = u @ u.t() / temperature - 1e9 * torch.eye(n)
    target = (torch.arange(n) + n // 2) % n
    return F.cross_entropy(s, target, reduction="mean")


# ---------------------------------------------------------------- cases

def cosine_lrs(base, warmup, total):
    """lr of step k (0-based): linear warm-up, then cosine down to 0."""
    lrs = []
    for k in range(total):
        if k < warmup:
            lrs.append(base * (k + 1) / warmup)
        else:
            lrs.append(base * 0.5 * (1 + math.cos(math.pi * (k - warmup) / (total - warmup))))
    return lrs


SGD_FORMULA = ("g = grad + weight_decay*p; buf = g at the first step, else "
               "buf = momentum*buf + g (dampening 0); "
               "d = g + momentum*buf if nesterov else buf; p -= lr*d")
ADAMW_FORMULA = ("t += 1; p *= 1 - lr*weight_decay; m = beta1*m + (1-beta1)*grad; "
                 "v = beta2*v + (1-beta2)*grad^2; "
                 "p -= (lr/(1-beta1^t)) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)")
CLIP_FORMULA = ("total = sqrt(sum over trainable params of sum(grad^2)); "
                "grad *= min(1, max_norm/(total + 1e-6))")


def sgd(lr, momentum, nesterov=False, weight_decay=0.0):
    return {"name": "sgd", "lr": lr, "momentum": momentum, "dampening": 0.0,
            "nesterov": nesterov, "weight_decay": weight_decay,
            "formula": SGD_FORMULA}


def adamw(lr, weight_decay):
    return {"name": "adamw", "lr": lr, "betas": [0.9, 0.999], "eps": 1e-8,
            "weight_decay": weight_decay, "amsgrad": False,
            "formula": ADAMW_FORMULA}


CASES = [
    {"name": "mlp_sgd", "net": make_mlp, "data": mlp_data,
     "opt": sgd(0.1, 0.9), "batch": 8, "steps": 6},
    {"name": "mlp_adamw", "net": make_mlp, "data": mlp_data,
     "opt": adamw(1e-2, 1e-2), "batch": 24, "steps": 5},
    {"name": "mlp_sgd_nesterov", "net": make_mlp, "data": mlp_data,
     "opt": sgd(0.1, 0.9, nesterov=True, weight_decay=1e-3), "batch": 8, "steps": 6},
    {"name": "conv_bn_sgd", "net": make_conv_bn, "data": conv_data,
     "opt": sgd(0.05, 0.9), "batch": 6, "steps": 4},
    {"name": "conv_bn_adamw_head", "net": make_conv_bn, "data": conv_data,
     "opt": adamw(1e-2, 1e-2), "batch": 12, "steps": 4,
     "trainable_regex": r"^fc\."},
    {"name": "mlp_sgd_clip_cosine", "net": make_mlp, "data": mlp_data,
     "opt": sgd(0.1, 0.9), "batch": 8, "steps": 6,
     "clip_norm": 0.5, "schedule": {"name": "cosine", "warmup": 2}},
    # Not in the original list: batch 10 over 24 samples, so every epoch ends
    # with a partial batch of 4 (the mean is over those 4).
    {"name": "mlp_sgd_partial_batch", "net": make_mlp, "data": mlp_data,
     "opt": sgd(0.1, 0.9), "batch": 10, "steps": 6},
    # Class weights and label smoothing: torch's weighted mean
    # sum(w[y] l) / sum(w[y]) with smoothed targets.
    {"name": "mlp_adamw_weighted_smooth", "net": make_mlp, "data": mlp_data,
     "opt": adamw(1e-2, 1e-2), "batch": 8, "steps": 6,
     "class_weights": [1.0, 2.0, 0.5], "label_smoothing": 0.1},
    # BatchNorm in training mode (frost --bn-train): batch statistics, and
    # the running mean updated (the running variance is not compared:
    # PyTorch updates it with the unbiased variance, ONNX with the
    # population one).
    {"name": "conv_bn_train_sgd", "net": make_conv_bn, "data": conv_data,
     "opt": sgd(0.05, 0.9), "batch": 6, "steps": 4, "bn_train": True,
     "bn_train_stats": ["bn.running_mean"]},
    # Depthwise-separable block, all trainable: the strided depthwise
    # conv's input and weight gradients (by output phases in frost).
    {"name": "dw_sep_sgd", "net": make_dw_sep, "data": wide_data,
     "opt": sgd(0.05, 0.9), "batch": 6, "steps": 4},
    # frost train --ssl: the model's output as the embedding (no projection
    # head), two views of each of 6 samples per step (the same images: see
    # conv_data_mirrored), NT-Xent at temperature 0.5.
    {"name": "conv_bn_ssl_sgd", "net": make_conv_bn, "data": conv_data_mirrored,
     "opt": sgd(0.05, 0.9), "batch": 6, "steps": 4, "ssl": {"temperature": 0.5}},
]


# ---------------------------------------------------------------- writing

def safe(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def save_npy(path, t):
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))
    np.save(path, a)


def write_data(folder, x, labels):
    """data/sNN.npy per sample, data/manifest.csv (paths relative to data/)."""
    os.makedirs(folder)
    rows = ["path,label"]
    for i in range(x.shape[0]):
        fname = "s%02d.npy" % i
        save_npy(os.path.join(folder, fname), x[i])
        rows.append("%s,c%d" % (fname, int(labels[i])))
    with open(os.path.join(folder, "manifest.csv"), "w", newline="\n") as f:
        f.write("\n".join(rows) + "\n")


def write_model_json(onx, out):
    """model.onnx as model.json (the graph) and init/ (each initializer as
    .npy): ONNX files are not committed; make-model.js builds model.onnx
    from these at test time."""
    g = onx.graph

    def vi(v):
        dims = [d.dim_param if d.dim_param else d.dim_value
                for d in v.type.tensor_type.shape.dim]
        return {"name": v.name, "elem_type": v.type.tensor_type.elem_type, "dims": dims}

    def attr(a):
        t = onnx.AttributeProto
        if a.type == t.INT: return {"name": a.name, "type": "int", "value": a.i}
        if a.type == t.FLOAT: return {"name": a.name, "type": "float", "value": a.f}
        if a.type == t.INTS: return {"name": a.name, "type": "ints", "value": list(a.ints)}
        if a.type == t.FLOATS: return {"name": a.name, "type": "floats", "value": list(a.floats)}
        raise ValueError("attribute %s of type %d" % (a.name, a.type))
    os.makedirs(os.path.join(out, "init"), exist_ok=True)
    inits = []
    for i in g.initializer:
        a = onnx.numpy_helper.to_array(i)
        assert a.dtype == np.float32, i.name
        f = safe(i.name) + ".npy"
        np.save(os.path.join(out, "init", f), a)
        inits.append({"name": i.name, "file": f})
    doc = {"ir_version": onx.ir_version,
           "opset": [{"domain": o.domain, "version": o.version} for o in onx.opset_import],
           "inputs": [vi(v) for v in g.input], "outputs": [vi(v) for v in g.output],
           "initializers": inits,
           "nodes": [{"op": n.op_type, "name": n.name, "inputs": list(n.input),
                      "outputs": list(n.output), "attrs": [attr(a) for a in n.attribute]}
                     for n in g.node]}
    with open(os.path.join(out, "model.json"), "w") as f:
        f.write(json_text(doc))


def export(model, x, path):
    # TrainingMode.PRESERVE with the model in eval mode: exports inference
    # BatchNormalization but skips the eval peephole that would fold it into
    # the Conv (torch 1.13 runs that peephole only for TrainingMode.EVAL).
    model.eval()
    torch.onnx.export(model, x[:1], path, opset_version=13,
                      do_constant_folding=False, export_params=True,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def batches(n, size):
    """Manifest order, no shuffling, last partial batch kept."""
    return [list(range(s, min(s + size, n))) for s in range(0, n, size)]


def json_text(obj):
    """Indented JSON with lists of numbers kept on one line."""
    text = json.dumps(obj, indent=1)
    flat = lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]"
    return re.sub(r"\[\s+([-+0-9.eE,\s]+?)\s+\]", flat, text) + "\n"


def run_case(case, root):
    out = os.path.join(root, case["name"])
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)

    model = case["net"]()
    model.eval()  # BatchNorm on running statistics throughout; no dropout
    x, labels = case["data"]()
    write_data(os.path.join(out, "data"), x, labels)

    onx = export(model, x, os.path.join(out, "model.onnx"))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in onx.graph.initializer}
    print("%s: initializers %s" % (case["name"], ", ".join(inits)))

    params = dict(model.named_parameters())
    regex = case.get("trainable_regex")
    trainable = [n for n in params if regex is None or re.search(regex, n)]
    for n, p in params.items():
        p.requires_grad_(n in trainable)
    buffers = {n: b for n, b in model.named_buffers() if n in inits}
    frozen = [n for n in inits if n not in trainable]
    for n in list(params) + list(buffers):
        assert n in inits, "%s is not an initializer of model.onnx" % n
    # every ONNX initializer is a parameter or buffer of the same name and value
    state = model.state_dict()
    for n, a in inits.items():
        assert n in state, "initializer %s is not in the state dict" % n
        assert np.array_equal(a, state[n].numpy()), n

    o = case["opt"]
    plist = [params[n] for n in trainable]
    if o["name"] == "sgd":
        opt = torch.optim.SGD(plist, lr=o["lr"], momentum=o["momentum"],
                              dampening=0.0, nesterov=o["nesterov"],
                              weight_decay=o["weight_decay"], foreach=False)
    else:
        opt = torch.optim.AdamW(plist, lr=o["lr"], betas=tuple(o["betas"]),
                                eps=o["eps"], weight_decay=o["weight_decay"],
                                amsgrad=False, foreach=False)

    K = case["steps"]
    bl = batches(x.shape[0], case["batch"])
    lrs = None
    if "schedule" in case:
        lrs = cosine_lrs(o["lr"], case["schedule"]["warmup"], K)

    with torch.no_grad():
        save_npy(os.path.join(out, "logits0.npy"), model(x[bl[0]]))

    stats = case.get("bn_train_stats", [])

    def dump(k):
        d = os.path.join(out, "step%d" % k)
        os.makedirs(d)
        for n in trainable:
            save_npy(os.path.join(d, safe(n) + ".npy"), params[n])
        for n in stats:
            save_npy(os.path.join(d, safe(n) + ".npy"), model.state_dict()[n])

    frozen_before = {n: state[n].clone() for n in frozen
                     if not (case.get("bn_train") and "running_" in n)}
    dump(0)
    if case.get("bn_train"):
        model.train()  # batch statistics; the running ones are updated
    losses, grad_norms, used = [], [], []
    for k in range(K):
        idx = bl[k % len(bl)]
        used.append(idx)
        opt.zero_grad(set_to_none=True)
        if "ssl" in case:
            views = torch.cat([x[idx], x[idx]])
            loss = nt_xent(model(views), case["ssl"]["temperature"])
        else:
            loss = F.cross_entropy(model(x[idx]), labels[idx], reduction="mean",
                                   weight=torch.tensor(case["class_weights"])
                                   if "class_weights" in case else None,
                                   label_smoothing=case.get("label_smoothing", 0.0))
        losses.append(float(loss.item()))
        loss.backward()
        if "clip_norm" in case:
            gn = torch.nn.utils.clip_grad_norm_(plist, case["clip_norm"], norm_type=2.0)
            grad_norms.append(float(gn.item()))
        if lrs is not None:
            for gr in opt.param_groups:
                gr["lr"] = lrs[k]
        opt.step()
        dump(k + 1)
    for n in frozen_before:
        assert torch.equal(model.state_dict()[n], frozen_before[n]), n

    ref = {
        "case": case["name"],
        "model": "model.json",
        "data": "data/manifest.csv",
        "mode": "eval (no dropout; BatchNormalization, where present, uses its running statistics, never updated)",
        "optimizer": o,
        "batch_size": case["batch"],
        "steps": K,
        "shuffle": False,
        "batches": used,
        "loss": LOSS,
        "initializers": list(inits),
        "trainable": trainable,
        "frozen": frozen,
        "files": {n: safe(n) + ".npy" for n in trainable + stats},
        "losses": losses,
    }
    if regex is not None:
        ref["trainable_regex"] = regex
    if "class_weights" in case:
        ref["class_weights"] = case["class_weights"]
    if case.get("bn_train"):
        ref["bn_train"] = True
        ref["statistics"] = stats
    if "label_smoothing" in case:
        ref["label_smoothing"] = case["label_smoothing"]
    if "ssl" in case:
        ref["ssl"] = dict(case["ssl"], views="each batch twice, rows i and i + n",
                          formula="u = z / sqrt(sum(z^2) + 1e-12); S = u u^T / "
                                  "temperature - 1e9 I; cross-entropy of S with "
                                  "row i's class (i + n) mod 2n, mean")
        ref["loss"] = "InfoNCE (NT-Xent), mean over the 2n views"
    if "clip_norm" in case:
        ref["clip_grad_norm"] = {"max_norm": case["clip_norm"], "norm_type": 2.0,
                                 "formula": CLIP_FORMULA}
        ref["grad_norms"] = grad_norms
    if lrs is not None:
        ref["schedule"] = {"name": "cosine", "base_lr": o["lr"],
                           "warmup": case["schedule"]["warmup"], "total": K,
                           "formula": "k < warmup: base*(k+1)/warmup; else "
                                      "base*0.5*(1+cos(pi*(k-warmup)/(total-warmup)))"}
        ref["lrs"] = lrs
    with open(os.path.join(out, "ref.json"), "w", newline="\n") as f:
        f.write(json_text(ref))

    check_case(out, ref)
    write_model_json(onnx.load(os.path.join(out, "model.onnx")), out)
    os.remove(os.path.join(out, "model.onnx"))


def np_run(m, x):
    """A tiny numpy interpreter for the ops these models use (a check that the
    exported graph means what the PyTorch module computed)."""
    env = {i.name: onnx.numpy_helper.to_array(i).astype(np.float64)
           for i in m.graph.initializer}
    env["x"] = x.astype(np.float64)
    for n in m.graph.node:
        a = {t.name: onnx.helper.get_attribute_value(t) for t in n.attribute}
        v = [env[i] for i in n.input]
        if n.op_type == "Gemm":
            assert a.get("transB") == 1 and not a.get("transA")
            y = v[0] @ v[1].T + v[2]
        elif n.op_type == "Relu":
            y = np.maximum(v[0], 0)
        elif n.op_type == "Flatten":
            y = v[0].reshape(v[0].shape[0], -1)
        elif n.op_type == "BatchNormalization":
            s = (1, -1, 1, 1)
            y = ((v[0] - v[3].reshape(s)) / np.sqrt(v[4].reshape(s) + a["epsilon"])
                 * v[1].reshape(s) + v[2].reshape(s))
        elif n.op_type == "MaxPool":
            assert a["kernel_shape"] == [2, 2] and a["strides"] == [2, 2]
            N, C, H, W = v[0].shape
            y = v[0].reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))
        elif n.op_type == "Conv":
            pd, st, G = a["pads"][0], a["strides"][0], a.get("group", 1)
            assert a["pads"] == [pd] * 4 and a["strides"] == [st] * 2
            xp = np.pad(v[0], ((0, 0), (0, 0), (pd, pd), (pd, pd)))
            N, C, H, W = v[0].shape
            w = v[1]
            M, Cg, KH, KW = w.shape
            OH, OW = (H + 2 * pd - KH) // st + 1, (W + 2 * pd - KW) // st + 1
            y = np.zeros((N, M, OH, OW))
            Mg = M // G
            for g in range(G):
                for i in range(KH):
                    for j in range(KW):
                        xs = xp[:, g * Cg:(g + 1) * Cg, i:i + st * OH:st, j:j + st * OW:st]
                        y[:, g * Mg:(g + 1) * Mg] += np.einsum(
                            "nchw,oc->nohw", xs, w[g * Mg:(g + 1) * Mg, :, i, j])
            y += v[2].reshape(1, -1, 1, 1)
        elif n.op_type == "GlobalAveragePool":
            y = v[0].mean(axis=(2, 3), keepdims=True)
        else:
            raise ValueError("np_run: no %s" % n.op_type)
        env[n.output[0]] = y
    return env[m.graph.output[0].name]


def check_case(out, ref):
    """Re-read what was written: initializer names match the step files."""
    m = onnx.load(os.path.join(out, "model.onnx"))
    onnx.checker.check_model(m)
    names = [i.name for i in m.graph.initializer]
    assert names == ref["initializers"]
    assert [i.name for i in m.graph.input] == ["x"]
    assert [o.name for o in m.graph.output] == ["logits"]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer}
    for k in range(ref["steps"] + 1):
        d = os.path.join(out, "step%d" % k)
        assert sorted(os.listdir(d)) == sorted(ref["files"].values()), d
        for n in ref["trainable"]:
            a = np.load(os.path.join(d, ref["files"][n]))
            assert a.dtype == np.float32 and a.shape == inits[n].shape, (d, n)
            if k == 0:
                assert np.array_equal(a, inits[n]), (d, n)
    # model.onnx computes logits0.npy: run its nodes with numpy on batch 0
    x = np.stack([np.load(os.path.join(out, "data", "s%02d.npy" % i))
                  for i in ref["batches"][0]])
    got = np_run(m, x)
    want = np.load(os.path.join(out, "logits0.npy"))
    assert np.allclose(got, want, rtol=1e-5, atol=1e-5), (got, want)
    ops = [n.op_type for n in m.graph.node]
    print("%s: ops %s; losses %s" % (ref["case"], " ".join(ops),
                                     " ".join("%.6f" % l for l in ref["losses"])))


def main():
    if sys.argv[1:2] == ["--convert"]:  # model.onnx files written before
        for d in sys.argv[2:]:
            write_model_json(onnx.load(os.path.join(d, "model.onnx")), d)
        return
    args = sys.argv[1:]
    only = None
    if args[:1] == ["--only"]:  # --only NAME[,NAME]: those cases alone
        only = args[1].split(",")
        args = args[2:]
    root = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    for case in CASES:
        if only is None or case["name"] in only:
            run_case(case, root)


if __name__ == "__main__":
    main()
