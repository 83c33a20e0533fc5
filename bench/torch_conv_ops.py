"""bench/conv_ops.c's two convolutions in PyTorch: CPU milliseconds a step
(batch 128, one thread), forward and then backward to the weights, biases
and conv2's input, in NCHW and in channels_last (oneDNN's convolutions, in
Debian's python3-torch). Run it with /usr/bin/python3.
"""
import time

import torch


def main():
    torch.set_num_threads(1)
    for layout in (torch.contiguous_format, torch.channels_last):
        c1 = torch.nn.Conv2d(1, 32, 3).to(memory_format=layout)
        c2 = torch.nn.Conv2d(32, 64, 3).to(memory_format=layout)
        x1 = torch.rand(128, 1, 28, 28).to(memory_format=layout)
        x2 = torch.rand(128, 32, 13, 13).to(memory_format=layout).requires_grad_()

        def step():
            t0 = time.process_time()
            y1, y2 = c1(x1), c2(x2)
            t1 = time.process_time()
            (y1.sum() + y2.sum()).backward()
            return t1 - t0, time.process_time() - t0

        for _ in range(3):
            step()
        runs = [step() for _ in range(20)]
        name = "channels_last" if layout == torch.channels_last else "NCHW"
        print(f"torch {name} conv1+conv2 per step: forward "
              f"{1e3 * sum(f for f, _ in runs) / 20:.1f} ms, forward+backward "
              f"{1e3 * sum(t for _, t in runs) / 20:.1f} ms (CPU)")


if __name__ == "__main__":
    main()
