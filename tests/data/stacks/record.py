"""Record what real training stacks print, and the series each library records itself.

Run with a Python that has the libraries (see README.md beside this file for the versions)::

    python tests/data/stacks/record.py            # every stack
    python tests/data/stacks/record.py xgboost    # one

For each stack this runs a small, seeded training script in a subprocess whose output is a pipe
(as a trial's is), and writes ``<stack>.out`` (the bytes it printed, stderr included) and
``<stack>.json`` (the library's own record of its metrics, as ``{name: [[step, value], ...]}``
under our step rule, plus the library's version). The tests read both; none of the libraries is
needed to run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))

DATA = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 6)).astype("float32")
y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(scale=0.8, size=400) > 0).astype("int64")
Xt, yt, Xv, yv = X[:320], y[:320], X[320:], y[320:]
"""

SCRIPTS = {
    # Keras 3 on the torch backend; verbose=1 draws its bar with \\b and \\r even on a pipe.
    "keras_v1": DATA + """
import os, json, sys
import keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
hist = model.fit(Xt, yt, validation_data=(Xv, yv), epochs=4, batch_size=16, verbose=VERBOSE)
series = {k: [[i + 1, float(v)] for i, v in enumerate(vs)] for k, vs in hist.history.items()}
json.dump({"version": f"keras {keras.__version__} (torch backend)", "series": series}, open(sys.argv[1], "w"))
""",
    "lightning": DATA + """
import json, sys, tempfile, csv, glob, os
import torch, lightning as L
from torch.utils.data import DataLoader, TensorDataset
L.seed_everything(0)
class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.binary_cross_entropy_with_logits(self.net(x).squeeze(1), y.float())
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss
    def validation_step(self, batch, _):
        x, y = batch
        logits = self.net(x).squeeze(1)
        self.log("val_loss", torch.nn.functional.binary_cross_entropy_with_logits(logits, y.float()), prog_bar=True)
        self.log("val_acc", ((logits > 0).long() == y).float().mean(), prog_bar=True)
    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)
out = tempfile.mkdtemp()
loader = lambda X, y, shuffle: DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=32, shuffle=shuffle)
trainer = L.Trainer(max_epochs=4, logger=L.pytorch.loggers.CSVLogger(out), accelerator="cpu", devices=1,
                    enable_checkpointing=False, enable_model_summary=False,
                    callbacks=[L.pytorch.callbacks.TQDMProgressBar()])  # the default when rich is absent
trainer.fit(Model(), loader(Xt, yt, True), loader(Xv, yv, False))
series = {}
for row in csv.DictReader(open(glob.glob(os.path.join(out, "**", "metrics.csv"), recursive=True)[0])):
    for key, value in row.items():
        if key not in ("epoch", "step") and value != "":
            series.setdefault(key, []).append([int(row["epoch"]), float(value)])
json.dump({"version": f"lightning {L.__version__}, torch {torch.__version__}", "series": series}, open(sys.argv[1], "w"))
""",
    "transformers": DATA + """
import json, math, sys, tempfile
import torch, transformers
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
transformers.set_seed(0)
tokens = (np.abs(X[:, :4]) * 10).astype("int64") % 50
class Rows(torch.utils.data.Dataset):
    def __init__(self, ids, labels): self.ids, self.labels = ids, labels
    def __len__(self): return len(self.ids)
    def __getitem__(self, i):
        return {"input_ids": torch.tensor(self.ids[i]), "attention_mask": torch.ones(4, dtype=torch.long),
                "labels": torch.tensor(int(self.labels[i]))}
config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                    intermediate_size=16, max_position_embeddings=8)
args = TrainingArguments(output_dir=tempfile.mkdtemp(), num_train_epochs=3, per_device_train_batch_size=32,
                         eval_strategy="epoch", logging_strategy="epoch", save_strategy="no", report_to=[],
                         use_cpu=True, seed=0, learning_rate=1e-3)
trainer = Trainer(model=BertForSequenceClassification(config), args=args, train_dataset=Rows(tokens[:320], y[:320]),
                  eval_dataset=Rows(tokens[320:], y[320:]))
trainer.train()
series = {}
for entry in trainer.state.log_history:
    for key, value in entry.items():
        if key not in ("epoch", "step", "total_flos"):
            series.setdefault(key, []).append([math.ceil(entry["epoch"]), float(value)])
json.dump({"version": f"transformers {transformers.__version__}, torch {torch.__version__}", "series": series},
          open(sys.argv[1], "w"))
""",
    "xgboost": DATA + """
import json, sys
import xgboost as xgb
model = xgb.XGBClassifier(n_estimators=12, max_depth=3, learning_rate=0.3, eval_metric=["logloss", "error"],
                          random_state=0)
model.fit(Xt, yt, eval_set=[(Xt, yt), (Xv, yv)], verbose=True)
series = {f"{data}-{metric}": [[i, float(v)] for i, v in enumerate(values)]
          for data, metrics in model.evals_result().items() for metric, values in metrics.items()}
json.dump({"version": f"xgboost {xgb.__version__}", "series": series}, open(sys.argv[1], "w"))
""",
    "lightgbm": DATA + """
import json, sys
import lightgbm as lgb
record = {}
train = lgb.Dataset(Xt, yt)
lgb.train({"objective": "binary", "metric": ["binary_logloss", "auc"], "learning_rate": 0.3, "num_leaves": 7,
           "seed": 0, "deterministic": True, "force_row_wise": True},
          train, num_boost_round=40, valid_sets=[train, lgb.Dataset(Xv, yv, reference=train)],
          callbacks=[lgb.log_evaluation(1), lgb.record_evaluation(record), lgb.early_stopping(4)])
series = {f"{data}-{metric}": [[i + 1, float(v)] for i, v in enumerate(values)]
          for data, metrics in record.items() for metric, values in metrics.items()}
json.dump({"version": f"lightgbm {lgb.__version__}", "series": series}, open(sys.argv[1], "w"))
""",
    # Event files: PyTorch's SummaryWriter (simple values) in the root, tensorboard's own writer
    # (one-element tensors, as tf.summary.scalar writes) in a folder, as Keras writes validation/.
    "tensorboard": """
import json, os, shutil, sys
import tensorboard, torch
from torch.utils.tensorboard import SummaryWriter
from tensorboard.summary import Writer
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util
root = os.path.join(os.path.dirname(sys.argv[1]), "tensorboard")
shutil.rmtree(root, ignore_errors=True)
with SummaryWriter(log_dir=root, filename_suffix=".torch") as writer:
    for epoch in range(1, 4):
        writer.add_scalar("loss", 1 / epoch, epoch)
        writer.add_scalar("val/loss", 1.5 / epoch, epoch)
writer = Writer(os.path.join(root, "validation"))
for epoch in range(0, 3):
    writer.add_scalar("epoch_loss", 0.5 / (epoch + 1), step=epoch)
writer.close()
series = {}
for folder, prefix in ((root, ""), (os.path.join(root, "validation"), "validation/")):
    acc = EventAccumulator(folder, size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    for tag in acc.Tags()["scalars"]:
        series[prefix + tag] = [[e.step, e.value] for e in acc.Scalars(tag)]
    for tag in acc.Tags()["tensors"]:
        series[prefix + tag] = [[e.step, float(tensor_util.make_ndarray(e.tensor_proto))] for e in acc.Tensors(tag)]
json.dump({"version": f"tensorboard {tensorboard.__version__} (its EventAccumulator), torch {torch.__version__}",
           "series": series}, open(sys.argv[1], "w"))
""",
}
SCRIPTS["keras_v2"] = SCRIPTS["keras_v1"].replace("VERBOSE", "2")
SCRIPTS["keras_v1"] = SCRIPTS["keras_v1"].replace("VERBOSE", "1")


def record(stack: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = os.path.join(HERE, f"{stack}.json")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPTS[stack]), result], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    with open(os.path.join(HERE, f"{stack}.out"), "wb") as fh:
        fh.write(done.stdout)
    if done.returncode:
        sys.exit(f"{stack} failed ({done.returncode}):\n{done.stdout.decode(errors='replace')[-3000:]}")
    print(stack, json.load(open(result))["version"])


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(SCRIPTS):
        record(name)
