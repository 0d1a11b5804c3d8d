"""Copy a trained checkpoint's model weights + config into the package and print its sha256.

    python scripts/export_weights.py runs/atnet/best.pt talkface/assets/atnet_grid.pt

Paste the printed sha256 into talkface/registry.py. Only inference state is kept (no
optimizer), stored as float16, with the training config and validation metrics for the model
card. `--config FIELD=VALUE` changes a field of the model config that does not touch the
weights (e.g. a renderer's `regions`); the model is built from the result before anything is
written. `--blend OTHER W` ships (1 - W) x checkpoint + W x OTHER, parameter by parameter
(weight interpolation along a fine-tuning path, as WiSE-FT: OTHER an earlier checkpoint of the
same run, e.g. the weights the fine-tuning started from); the two must share architecture and
config.
"""

import argparse
import ast
import hashlib
import io

import torch

from talkface.io.files import atomic_output
from talkface.weights import load_model

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint")
parser.add_argument("output")
parser.add_argument(
    "--config", action="append", default=[], metavar="FIELD=VALUE", help="repeatable"
)
parser.add_argument("--blend", nargs=2, metavar=("OTHER", "WEIGHT"))
args = parser.parse_args()

state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
if args.blend:
    other_path, weight = args.blend[0], float(args.blend[1])
    other = torch.load(other_path, map_location="cpu", weights_only=True)
    if (other["architecture"], other["config"]) != (
        state["architecture"],
        state["config"],
    ):
        raise SystemExit(f"{other_path}: another architecture or config: cannot blend")
    state["model"] = {
        k: ((1 - weight) * v.float() + weight * other["model"][k].float())
        if v.is_floating_point()
        else v
        for k, v in state["model"].items()
    }
    state["blend"] = {"with": other_path, "epoch": other.get("epoch"), "weight": weight}
keep = {
    k: state[k]
    for k in (
        "version",
        "architecture",
        "config",
        "model",
        "epoch",
        "metrics",
        "train_config",
        "blend",
    )
    if k in state
}
for change in args.config:
    field, value = change.split("=", 1)
    try:
        keep["config"][field] = ast.literal_eval(value)  # numbers, booleans, tuples
    except (ValueError, SyntaxError):
        keep["config"][field] = value  # a plain string
# raises on a field the config lacks, a value it rejects, or weights of another shape
load_model(keep)
# float16 halves the file; the pipeline computes in float32 (max error ~1e-3 relative)
keep["model"] = {
    k: v.half() if v.is_floating_point() else v for k, v in keep["model"].items()
}
buffer = io.BytesIO()
torch.save(keep, buffer)
data = buffer.getvalue()
with atomic_output(args.output, suffix=".pt") as tmp, open(tmp, "wb") as f:
    f.write(data)
print(
    f"{args.output}: {len(data) / 1e6:.2f} MB, epoch {keep.get('epoch')}, sha256 {hashlib.sha256(data).hexdigest()}"
)
