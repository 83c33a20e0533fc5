"""The same benchmark as nabla_bench, in PyTorch (Debian's python3-torch).

784-H-64-10 MLP (relu, relu, softmax), Adam with Keras's defaults
(lr 1e-3, betas 0.9/0.999, eps 1e-7), categorical cross-entropy on the
softmax probabilities clipped to [1e-7, 1 - 1e-7] as Keras computes it,
Glorot-uniform kernels and zero biases. An epoch is the first --samples
training images, shuffled, in batches of --batch, no validation pass.
Prints `epoch_seconds: X` per epoch and `test accuracy: X` at the end.
Run it with /usr/bin/python3 (the interpreter that sees Debian's packages).
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, name):
    for suffix in ("", ".gz"):
        path = os.path.join(directory, name + suffix)
        if os.path.exists(path):
            return read_idx(path)
    raise FileNotFoundError(os.path.join(directory, name))


def train(model, opt, x, y, batch, epochs):
    """Train as nabla's fit does (shuffled batches, clipped cross-entropy,
    the accuracy metric each batch), print `epoch_seconds: X` per epoch and
    return the epochs' wall and CPU seconds (all threads)."""
    n = x.shape[0]
    times, cpu = [], []
    for _ in range(epochs):
        model.train()
        start, cpu_start = time.perf_counter(), time.process_time()
        order = torch.randperm(n)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            xb, yb = x[rows], y[rows]
            probs = model(xb).clamp(1e-7, 1 - 1e-7)
            loss = -(yb * probs.log()).sum(dim=1).mean()
            # the accuracy metric, as Keras and nabla compute it every batch
            _ = (probs.argmax(dim=1) == yb.argmax(dim=1)).float().mean().item()
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        print(f"epoch_seconds: {times[-1]:.4f}", flush=True)
    return times, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--samples", type=int, default=48000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x = torch.from_numpy(load(args.data, "train-images-idx3-ubyte").reshape(-1, 784)
                         .astype(np.float32) / 255.0)[:args.samples].contiguous()
    labels = torch.from_numpy(load(args.data, "train-labels-idx1-ubyte").astype(np.int64))
    y = torch.nn.functional.one_hot(labels, 10).float()[:args.samples].contiguous()
    x_test = torch.from_numpy(load(args.data, "t10k-images-idx3-ubyte").reshape(-1, 784)
                              .astype(np.float32) / 255.0)
    y_test = torch.from_numpy(load(args.data, "t10k-labels-idx1-ubyte").astype(np.int64))

    model = torch.nn.Sequential(
        torch.nn.Linear(784, args.hidden), torch.nn.ReLU(),
        torch.nn.Linear(args.hidden, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10), torch.nn.Softmax(dim=1))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

    print(f"torch_mlp: torch {torch.__version__}; batch {args.batch}, threads {args.threads}, "
          f"hidden {args.hidden}, {x.shape[0]} samples per epoch", flush=True)
    times, _ = train(model, opt, x, y, args.batch, args.epochs)
    print(f"median epoch_seconds: {statistics.median(times):.4f}")
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
