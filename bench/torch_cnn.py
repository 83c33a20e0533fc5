"""The convnet benchmark of nabla_bench --model cnn, in PyTorch (Debian's
python3-torch).

The Keras MNIST convnet: Conv2D 32 3x3 relu, MaxPooling2D 2, Conv2D 64 3x3
relu, MaxPooling2D 2, Flatten, Dropout 0.5, Dense 10 softmax (34,826
parameters); Adam with Keras's defaults (lr 1e-3, betas 0.9/0.999, eps
1e-7), categorical cross-entropy on the softmax probabilities clipped to
[1e-7, 1 - 1e-7] as Keras computes it, Glorot-uniform kernels and zero
biases. PyTorch's layout is NCHW (its CPU convolutions pick their own
algorithm). An epoch is the first --samples training images, shuffled, in
batches of --batch, no validation pass. Prints `epoch_seconds: X` per epoch
and `test accuracy: X` at the end. Run it with /usr/bin/python3.
"""
import argparse
import statistics

import numpy as np
import torch

from torch_mlp import load, train


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=54000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def images(name):
        return torch.from_numpy(load(args.data, name).reshape(-1, 1, 28, 28)
                                .astype(np.float32) / 255.0)

    x = images("train-images-idx3-ubyte")[:args.samples].contiguous()
    labels = torch.from_numpy(load(args.data, "train-labels-idx1-ubyte").astype(np.int64))
    y = torch.nn.functional.one_hot(labels, 10).float()[:args.samples].contiguous()
    x_test = images("t10k-images-idx3-ubyte")
    y_test = torch.from_numpy(load(args.data, "t10k-labels-idx1-ubyte").astype(np.int64))

    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Dropout(0.5),
        torch.nn.Linear(1600, 10), torch.nn.Softmax(dim=1))
    for layer in model:
        if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

    print(f"torch_cnn: torch {torch.__version__}; batch {args.batch}, threads {args.threads}, "
          f"{x.shape[0]} samples per epoch", flush=True)
    times, cpu = train(model, opt, x, y, args.batch, args.epochs)
    # CPU seconds (all threads) too, as nabla_bench prints them: on a busy
    # machine they are the steadier of the two
    print(f"median epoch_seconds: {statistics.median(times):.4f} "
          f"(median cpu_seconds {statistics.median(cpu):.4f})")
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
