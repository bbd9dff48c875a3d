#!/usr/bin/python3
# train-vs-torch.py: PyTorch's side of bench/train-vs-torch.sh. Builds the
# benchmark networks, exports each to DIR/<net>/model.onnx with a data set
# of .npy samples (DIR/<net>/data/manifest.csv), and times PyTorch's train
# step on them at THREADS threads: prints "<case> torch <steps/s>" per
# case. A developer aid (Debian's python3-torch), never a dependency of
# frost or of its tests.
#
#   train-vs-torch.py DIR [THREADS]
#
# The cases (BatchNormalization on its running statistics, as frost trains
# without --bn-train):
#   mlp      784-256-256-10, every layer, SGD momentum 0.9, batch 64
#   conv     conv 1-16 (3x3, BN, ReLU, max pool), conv 16-32, linear; 28x28,
#            every layer, SGD momentum 0.9, batch 64
#   dw       3x48x192 input: a stride-2 stem conv 3-16, four blocks of a
#            depthwise 3x3 conv, BN, ReLU, a pointwise 1x1 conv, BN, ReLU
#            (16-32-64-128-128, strides 2, 2, 2, 1), global average pool,
#            linear 10; every layer, SGD momentum 0.9, batch 32
#   dw-last  the same network, only the last block and the linear layer
#            train (the frozen part still runs every step)
#   head     an MLP head 96-128-10, AdamW, batch 64
import os, sys, time
import numpy as np
import torch
import torch.nn as nn

out = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                         nn.ReLU(), nn.Linear(256, 10)), (784,)


def conv():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16),
                         nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 7 * 7, 10)), (1, 28, 28)


def block(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin),
        nn.BatchNorm2d(cin), nn.ReLU(),
        nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout), nn.ReLU())


def dw():
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1),
                      nn.BatchNorm2d(16), nn.ReLU()),
        block(16, 32, 2), block(32, 64, 2), block(64, 128, 2),
        block(128, 128, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10)), (3, 48, 192)


def head():
    return nn.Sequential(nn.Linear(96, 128), nn.ReLU(), nn.Linear(128, 10)), (96,)


# name, network, batch, samples, optimizer, trainable parameter prefixes
# (None: all), the model file it shares
CASES = [("mlp", mlp, 64, 640, "sgd", None, "mlp"),
         ("conv", conv, 64, 640, "sgd", None, "conv"),
         ("dw", dw, 32, 320, "sgd", None, "dw"),
         ("dw-last", dw, 32, 320, "sgd", ("4.", "7."), "dw"),
         ("head", head, 64, 640, "adamw", None, "head")]
built = {}
for name, make, batch, n, optim, train_only, model in CASES:
    if model not in built:
        torch.manual_seed(0)
        net, shape = make()
        net.eval()  # BatchNormalization with its running statistics
        d = os.path.join(out, model)
        os.makedirs(os.path.join(d, "data"), exist_ok=True)
        x = torch.randn(n, *shape)
        y = torch.randint(0, 10, (n,))
        with open(os.path.join(d, "data", "manifest.csv"), "w") as f:
            f.write("path,label\n")
            for i in range(n):
                np.save(os.path.join(d, "data", "s%04d.npy" % i), x[i].numpy())
                f.write("s%04d.npy,c%d\n" % (i, y[i].item()))
        torch.onnx.export(net, x[:batch], os.path.join(d, "model.onnx"),
                          opset_version=13, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE,
                          input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
        built[model] = (net, x, y)
    net, x, y = built[model]
    params = []
    for pn, p in net.named_parameters():
        p.requires_grad_(train_only is None or pn.startswith(train_only))
        if p.requires_grad:
            params.append(p)
    if optim == "sgd":
        opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    else:
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    steps = 0

    def epoch():
        global steps
        for s in range(0, n, batch):
            opt.zero_grad()
            loss = loss_fn(net(x[s:s + batch]), y[s:s + batch])
            loss.backward()
            opt.step()
            steps += 1
    epoch()  # warm-up
    steps = 0
    t0 = time.perf_counter()
    for _ in range(3):
        epoch()
    dt = time.perf_counter() - t0
    print("%s torch %.1f" % (name, steps / dt), flush=True)
