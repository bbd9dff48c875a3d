#!/usr/bin/python3
# train-vs-torch.py: PyTorch's side of bench/train-vs-torch.sh. Builds the
# benchmark networks, exports each to DIR/<net>/model.onnx with a data set
# of .npy samples (DIR/<net>/data/manifest.csv), and times PyTorch's train
# step on them (SGD with momentum, one thread, batch 64): prints
# "<net> torch <steps/s>". A developer aid (Debian's python3-torch), never a
# dependency of frost or of its tests.
import os, sys, time
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)
out = sys.argv[1]
BATCH, N = 64, 640


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                         nn.ReLU(), nn.Linear(256, 10)), (784,)


def conv():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16),
                         nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 7 * 7, 10)), (1, 28, 28)


for name, make in (("mlp", mlp), ("conv", conv)):
    net, shape = make()
    net.eval()  # BatchNormalization with its running statistics
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    x = torch.randn(N, *shape)
    y = torch.randint(0, 10, (N,))
    with open(os.path.join(d, "data", "manifest.csv"), "w") as f:
        f.write("path,label\n")
        for i in range(N):
            np.save(os.path.join(d, "data", "s%04d.npy" % i), x[i].numpy())
            f.write("s%04d.npy,c%d\n" % (i, y[i].item()))
    torch.onnx.export(net, x[:BATCH], os.path.join(d, "model.onnx"),
                      opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    steps = 0

    def epoch():
        global steps
        for s in range(0, N, BATCH):
            opt.zero_grad()
            loss = loss_fn(net(x[s:s + BATCH]), y[s:s + BATCH])
            loss.backward()
            opt.step()
            steps += 1
    epoch()  # warm-up
    steps = 0
    t0 = time.perf_counter()
    for _ in range(5):
        epoch()
    dt = time.perf_counter() - t0
    print("%s torch %.1f" % (name, steps / dt))
