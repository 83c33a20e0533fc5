"""examples/addition_rnn's model in PyTorch (Debian's python3-torch 1.13).

The Keras addition example: questions "a+b" padded to 2 DIGITS + 1
characters and reversed, answers padded to DIGITS + 1, one-hot over
"0123456789+ "; nn.LSTM(12, 128) encoder, its last h repeated DIGITS + 1
times, nn.LSTM(128, 128) decoder, Linear(128, 12) and softmax per step,
categorical cross-entropy on the probabilities clipped to [1e-7, 1 - 1e-7]
as Keras computes it, Adam with Keras's defaults (lr 1e-3, eps 1e-7),
batch 32, the last tenth of the questions held out. Weights as Keras
initialises them: Glorot-uniform input kernels, orthogonal recurrent
kernels, zero biases but a forget-gate bias of one (b_ih; b_hh zero).
An epoch is a shuffled pass over the training questions and a validation
pass, as nabla's. Prints `epoch_seconds: X` and the validation accuracy
per epoch, `validation accuracy: X` at the end. Run it with /usr/bin/python3.
"""
import argparse
import time

import numpy as np
import torch

CHARS = "0123456789+ "


def make_data(digits, n, seed):
    rng = np.random.default_rng(seed)
    maxlen, anslen = 2 * digits + 1, digits + 1
    seen, questions, answers = set(), [], []
    while len(questions) < n:
        a, b = (int("".join(rng.choice(list("0123456789"), rng.integers(1, digits + 1))))
                for _ in range(2))
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        questions.append(f"{a}+{b}".ljust(maxlen)[::-1])
        answers.append(str(a + b).ljust(anslen))
    def one_hot(texts, length):
        out = np.zeros((len(texts), length, len(CHARS)), dtype=np.float32)
        for i, text in enumerate(texts):
            for j, c in enumerate(text):
                out[i, j, CHARS.index(c)] = 1
        return torch.from_numpy(out)
    return one_hot(questions, maxlen), one_hot(answers, anslen)


def keras_init(lstm):
    """Keras's LSTM initialisation on PyTorch's layout (gates i, f, g, o)."""
    hidden = lstm.hidden_size
    with torch.no_grad():
        torch.nn.init.xavier_uniform_(lstm.weight_ih_l0)  # fans as Keras's [in, 4 units]
        # Keras: orthogonal [units, 4 units]; PyTorch stores its transpose
        torch.nn.init.orthogonal_(lstm.weight_hh_l0)
        lstm.bias_ih_l0.zero_()
        lstm.bias_hh_l0.zero_()
        lstm.bias_ih_l0[hidden:2 * hidden] = 1.0


class Addition(torch.nn.Module):
    def __init__(self, digits, units=128):
        super().__init__()
        self.steps = digits + 1
        self.encoder = torch.nn.LSTM(len(CHARS), units, batch_first=True)
        self.decoder = torch.nn.LSTM(units, units, batch_first=True)
        self.dense = torch.nn.Linear(units, len(CHARS))
        keras_init(self.encoder)
        keras_init(self.decoder)
        torch.nn.init.xavier_uniform_(self.dense.weight)
        torch.nn.init.zeros_(self.dense.bias)

    def forward(self, x):
        _, (h, _) = self.encoder(x)
        repeated = h[-1].unsqueeze(1).expand(-1, self.steps, -1)
        out, _ = self.decoder(repeated)
        return torch.softmax(self.dense(out), dim=-1)


def crossentropy(probs, target):
    return -(target * probs.clamp(1e-7, 1 - 1e-7).log()).sum(-1).mean()


def accuracy(probs, target):
    return (probs.argmax(-1) == target.argmax(-1)).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--digits", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=50000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = make_data(args.digits, args.train_size, args.seed)
    n_val = args.train_size // 10
    x_train, y_train = x[:-n_val], y[:-n_val]
    x_val, y_val = x[-n_val:], y[-n_val:]
    model = Addition(args.digits)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(x_train), 32):
            rows = order[i:i + 32]
            optimizer.zero_grad()
            loss = crossentropy(model(x_train[rows]), y_train[rows])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum(accuracy(model(x_val[i:i + 32]), y_val[i:i + 32]) * len(x_val[i:i + 32])
                          for i in range(0, len(x_val), 32))
        val_accuracy = correct / len(x_val)
        print(f"epoch {epoch}: val_accuracy {val_accuracy:.4f}")
        print(f"epoch_seconds: {time.perf_counter() - start:.3f}", flush=True)
    print(f"validation accuracy: {val_accuracy:.4f}")


if __name__ == "__main__":
    main()
