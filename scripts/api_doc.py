#!/usr/bin/env python3
"""docs/api.md from the public headers: every function, one line each.

    scripts/api_doc.py > docs/api.md        regenerate the page
    scripts/api_doc.py --check docs/api.md  exit 1, naming them, when a public
                                            function of include/nabla/*.h is
                                            missing from the page (a test)

A function's line is the first sentence of the comment right above its
declaration (or above the group of declarations it belongs to, or after it
on the same line). Headers are listed in the order a user learns them.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = os.path.join(ROOT, "include", "nabla")
ORDER = ["tensor.h", "ops.h", "movement.h", "indexing.h", "conv.h", "tape.h", "grad.h", "op.h",
         "trace.h",
         "gradcheck.h", "layer.h", "model.h", "loss.h", "metric.h", "optim.h", "data.h", "io.h",
         "model_io.h",
         "viz.h", "distributed.h", "rng.h", "error.h", "alloc.h", "backend.h"]

# Where a comment covers a group of functions, or there is none, say what
# each one does here.
OVERRIDES = {
    "nb_dtype_name": "The name of a dtype: \"f32\" or \"f64\".",
    "nb_tensor_zeros": "A new caller-owned tensor of zeros.",
    "nb_tensor_ones": "A new caller-owned tensor of ones.",
    "nb_tensor_full": "A new caller-owned tensor with every element `value`.",
    "nb_tensor_rand_uniform": "A new caller-owned tensor of uniform values in [low, high) from `rng`.",
    "nb_tensor_rand_normal": "A new caller-owned tensor of normal values (mean, stddev) from `rng`.",
    "nb_tensor_get": "The element at a flat (row-major) index, as a double.",
    "nb_tensor_set": "Set the element at a flat index from a double.",
    "nb_tensor_at": "The element at a full index (one entry per axis), as a double.",
    "nb_same_shape": "Whether two tensors have the same rank and dimensions.",
    "nb_add": "a + b, elementwise, with NumPy broadcasting.",
    "nb_sub": "a - b, elementwise, with NumPy broadcasting.",
    "nb_mul": "a * b, elementwise, with NumPy broadcasting.",
    "nb_div": "a / b, elementwise, with NumPy broadcasting.",
    "nb_add_scalar": "x + c for a constant c.",
    "nb_scale": "c x for a constant c.",
    "nb_neg": "-x.",
    "nb_exp": "e^x, elementwise.",
    "nb_square": "x^2, elementwise.",
    "nb_sqrt": "The square root, elementwise.",
    "nb_relu": "max(x, 0), elementwise.",
    "nb_sigmoid": "1 / (1 + e^-x), elementwise.",
    "nb_tanh": "tanh(x), elementwise.",
    "nb_softmax": "Softmax over the last axis (stable for large inputs).",
    "nb_log_softmax": "log(softmax(x)) over the last axis, computed stably.",
    "nb_sum": "The sum of every element, a scalar.",
    "nb_mean": "The mean of every element, a scalar.",
    "nb_sum_axis": "The sum along one axis (negative counts from the end), optionally keeping it.",
    "nb_mean_axis": "The mean along one axis (negative counts from the end), optionally keeping it.",
    "nb_max_axis": "The largest element along one axis; tied maxima share the gradient evenly.",
    "nb_min_axis": "The smallest element along one axis; tied minima share the gradient evenly.",
    "nb_tape_grad_enabled": "Whether the tape is recording.",
    "nb_detect_anomaly_enabled": "Whether anomaly detection is on.",
    "nb_infer_same_as_input": "An op's infer function for outputs shaped like input 0 (same dtype and shape).",
    "nb_activation_name": "The name of an activation (\"relu\").",
    "nb_initializer_name": "The Keras name of an initializer.",
    "nb_initializer_from_name": "Parse an initializer's Keras name; NB_ERR_ARG otherwise.",
    "nb_dense": "A Dense layer: activation(x W + b) with `units` outputs.",
    "nb_dense_with": "A Dense layer with every option (initializers, bias or not, name).",
    "nb_history_free": "Free a history returned by nb_model_fit.",
    "nb_early_stopping_stopped_epoch": "The epoch at which early stopping stopped the fit (0 when it did not).",
    "nb_early_stopping_best": "The best value of the monitored quantity seen by early stopping.",
    "nb_callback_free": "Free a callback.",
    "nb_model_free": "Free the model, its layers and its optimizer.",
    "nb_model_param_count": "Number of parameter elements of the model.",
    "nb_model_layer_count": "Number of layers.",
    "nb_model_layer": "The i-th layer (owned by the model).",
    "nb_model_weight_count": "Number of weight tensors of the model (every layer's parameters).",
    "nb_model_weight": "The i-th weight tensor, in layer order (kernel, bias, ...), owned by the model.",
    "nb_model_optimizer": "The optimizer given to compile.",
    "nb_model_loss": "The loss given to compile.",
    "nb_model_metric_count": "Number of metrics given to compile.",
    "nb_model_metric": "The i-th metric given to compile.",
    "nb_model_dtype": "The dtype of the model's parameters.",
    "nb_metric_mae": "Mean absolute error, as the loss computes it.",
    "nb_metric_mse": "Mean squared error, as the loss computes it.",
    "nb_sgd": "Stochastic gradient descent with optional momentum and Nesterov momentum (Keras's SGD).",
    "nb_adam": "Adam: per-parameter steps from moving averages of g and g^2, bias-corrected (Keras's Adam).",
    "nb_rmsprop": "RMSprop: steps divided by a moving root mean square of g, optional momentum (Keras's).",
    "nb_sgd_default": "SGD with Keras's defaults (learning rate 0.01, no momentum).",
    "nb_adam_default": "Adam with Keras's defaults (learning rate 0.001).",
    "nb_rmsprop_default": "RMSprop with Keras's defaults (learning rate 0.001).",
    "nb_optimizer_name": "\"SGD\", \"Adam\" or \"RMSprop\".",
    "nb_optimizer_learning_rate": "The learning rate.",
    "nb_optimizer_set_learning_rate": "Change the learning rate (e.g. for a schedule).",
    "nb_optimizer_set_iterations": "Set the step count (to restore a saved optimizer).",
    "nb_optimizer_state": "The i-th state tensor (momenta), for saving and restoring.",
    "nb_gemm_backend_in_use": "The kernel the matrix products use now.",
    "nb_activations_plot_png": "Draw what every layer of a model computes for one input, as a PNG.",
}

DECL = re.compile(r"^(?!typedef|#|\s|/|\*)[A-Za-z_][\w\s\*]*?\b(nb_\w+)\s*\(")


def headers():
    names = sorted(f for f in os.listdir(INCLUDE) if f.endswith(".h") and f != "nabla.h")
    return [h for h in ORDER if h in names] + [h for h in names if h not in ORDER]


def first_sentence(comment):
    text = " ".join(comment.split()).replace("e.g.", "e\x00g\x00")
    m = re.match(r"(.+?\.)(\s|$)", text)
    sentence = (m.group(1) if m else text).replace("\x00", ".")
    colon = sentence.find(": ")
    if colon > 30:
        sentence = sentence[:colon] + "."
    if len(sentence) > 200:
        sentence = sentence[:197].rsplit(" ", 1)[0] + "..."
    return sentence.rstrip(":") + ("" if sentence.endswith(".") else ".")


def functions(path):
    """(name, description) of every public function in a header."""
    lines = open(path).read().split("\n")
    out = []
    comment, group_comment = None, None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("/*") and not line.startswith(" "):
            block = [line]
            while "*/" not in lines[i] and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            text = "\n".join(block)
            text = re.sub(r"^\s*/\*+|\*+/\s*$", "", text.strip())
            text = "\n".join(l.strip().lstrip("*").strip() for l in text.split("\n"))
            comment = None if text.strip().startswith("----") else text
            group_comment = comment
            i += 1
            continue
        if stripped == "":
            group_comment = None
            comment = None
            i += 1
            continue
        m = DECL.match(line)
        if m:
            decl = line
            while ";" not in decl and "{" not in decl and i + 1 < len(lines):
                i += 1
                decl += " " + lines[i].strip()
            if "{" not in decl:
                trailing = re.search(r";\s*/\*(.*?)\*/", decl)
                text = comment or group_comment or (trailing.group(1) if trailing else "")
                name = m.group(1)
                out.append((name, OVERRIDES.get(name) or (first_sentence(text) if text else "")))
            comment = None
        i += 1
    return out


def header_summary(path):
    text = open(path).read()
    m = re.match(r"/\*\s*nabla/\w+\.h:\s*(.*?)(\n\s*\*\s*\n|\*/)", text, re.S)
    return " ".join(re.sub(r"\n\s*\* ?", " ", m.group(1)).split()) if m else ""


def render():
    out = ["# API reference", "",
           "Every public function of nabla, grouped by header, one line each (the first",
           "sentence of its comment in the header, where the whole comment is). Generated",
           "by `scripts/api_doc.py > docs/api.md`; the test `api_doc` fails when a public",
           "function is missing here. `#include \"nabla/nabla.h\"` includes every header.",
           ""]
    for h in headers():
        funcs = functions(os.path.join(INCLUDE, h))
        if not funcs:
            continue
        out.append(f"## nabla/{h}")
        out.append("")
        summary = header_summary(os.path.join(INCLUDE, h))
        if summary:
            out.append(summary)
            out.append("")
        for name, desc in funcs:
            out.append(f"- `{name}`: {desc}" if desc else f"- `{name}`")
        out.append("")
    return "\n".join(out)


def check(doc_path):
    doc = open(doc_path).read()
    missing = [(h, name) for h in headers()
               for name, _ in functions(os.path.join(INCLUDE, h))
               if not re.search(r"`" + re.escape(name) + r"`", doc)]
    for h, name in missing:
        print(f"{doc_path}: {name} (include/nabla/{h}) is missing; "
              "regenerate with scripts/api_doc.py > docs/api.md")
    return 1 if missing else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    sys.stdout.write(render())
