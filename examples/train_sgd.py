"""A real model: a linear classifier trained by SGD on scikit-learn's bundled digits (no download).

Each epoch is one pass of ``partial_fit`` over the training set; the validation log-loss is
printed after it as ``loss: ... (step N)``, which hpwidgets reads as the trial's learning curve:

    hpw run train_sgd.py lr=loguniform[1e-4:1] alpha=loguniform[1e-6:1e-1] --max-trials 40 --prune asha
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

lr = 0.01  # the constant learning rate (eta0)
alpha = 1e-4  # L2 regularisation
epochs = 30
seed = 0
delay = 0.0  # seconds to wait after each epoch, to watch the curves of a quick model

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
classes = np.unique(y)
model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=lr, alpha=alpha, random_state=seed)
order = np.random.default_rng(seed)
for epoch in range(1, epochs + 1):
    shuffle = order.permutation(len(X_train))
    model.partial_fit(X_train[shuffle], y_train[shuffle], classes=classes)
    proba = np.clip(model.predict_proba(X_val), 1e-7, 1.0)  # a diverged model is very bad, not NaN
    loss = log_loss(y_val, proba / proba.sum(axis=1, keepdims=True), labels=classes)
    print(f"loss: {loss:.6f} (step {epoch})", flush=True)
    if delay:
        time.sleep(delay)
print(f"acc: {model.score(X_val, y_val):.4f}")
