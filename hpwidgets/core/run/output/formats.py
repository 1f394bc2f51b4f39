"""The line formats of the stacks people train with, read into a step and ``key: value`` pairs.

| prints | read as | step |
|---|---|---|
| ``loss: 0.31``, ``acc: 0.9 (step 2)``, ``step: 4`` (Guild) | ``loss``, ``acc`` | ``(step N)``, ``step: N`` |
| pairs after a prefix: ``Epoch 3/15 - loss: 0.31 - val_loss: 0.42``, Keras ``20/20 - 0s - loss: 0.69`` | as printed | ``Epoch N/M`` |
| ``key=value`` anywhere: tqdm postfixes, Lightning ``Epoch 2: 100%|...| [..., val_loss=0.48]`` | as printed (not ``v_num``) | ``Epoch N:`` |
| Hugging Face ``{'eval_loss': 0.69, 'epoch': 1.0}`` | as printed | ``'epoch'`` rounded up |
| XGBoost ``[3]\\tvalidation_0-logloss:0.61`` | ``validation_0-logloss`` | ``[i]`` |
| LightGBM ``[3]\\tvalid_0's binary_logloss: 0.31`` | ``valid_0-binary_logloss`` | ``[i]`` |

The step is the counter the library prints, as printed: Keras and LightGBM count from 1, Lightning
and XGBoost from 0; an ``epoch`` pair (``epoch: 3``, ``'epoch': 0.5``) is the step rounded up (the
epoch a value belongs to, counted from 1), a ``step`` pair wins over it. Pairs after a prefix
count when they end the line and the prefix ends with ``-``, ``|``, ``,``, ``;``, ``]``, ``)`` or a
tab (``note: loss: 0.2`` gives nothing); ``key=value`` pairs count after a space, ``,``, ``;``,
``|`` or ``[`` (not in a call such as ``Trainer(log_every_n_steps=50)``). ``tensor(0.31)`` and
``np.float64(0.31)`` are numbers. LightGBM's own ``[LightGBM] [Info]`` records are not results.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

KEY = r"[A-Za-z_][\w./-]*"
VALUE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?[nN][aA][nN]|[+-]?[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
STEP_KEYS = ("step", "epoch")
SKIPPED = frozenset({"v_num"})  # Lightning's version number in its progress bar: not a metric
DIAGNOSTICS = ("[LightGBM]",)  # a library's own log records (``pavg=0.44 -> initscore=-0.23``)

_UNWRAP = re.compile(r"\b(?:tensor|np\.float\d+|numpy\.float\d+)\(\s*([^,()]+?)\s*(?:,[^()]*)?\)")
_GUILD_STEP = re.compile(r"\s+\(step\s+(\d+)\)\s*$")
_EPOCH = re.compile(r"\s*(?:[Ee]poch|EPOCH)\s+(\d+)(?:\s*/\s*\d+)?(?:$|[\s:|,-]+)")
_ROUND = re.compile(r"\s*\[(\d+)\]\t")
_CANDIDATE = re.compile(r"[:=][ \t]*(?:['\"]|[-+.\dnNiIt])")  # a value (or tensor) after `:` or `=`
_BOOSTER = re.compile(rf"({KEY})(?::|'s\s+({KEY}):)\s*({VALUE})\s*$")
_COLON = re.compile(rf"(?<![\w'.-])({KEY}):[ \t]*({VALUE})(?=$|[\s,;|\]}})])")
_GAP = re.compile(r"\s*[,;|]\s*|\s+-\s+|\s+")
_EQUALS = re.compile(rf"(?:^|(?<=[\s,;|\[]))({KEY})=({VALUE})(?=$|[\s,;|\])])")
_QUOTED = re.compile(rf"['\"]({KEY})['\"]:\s*['\"]?({VALUE})['\"]?(?=\s*[,}}])")
_PREFIX_ENDS = "-|,;])\t"
_GAPS = frozenset({" - ", " ", "  ", ", ", " | ", "\t", ",", "; ", " , "})  # the usual separators, looked up
_NOT_METRICS = SKIPPED | {v for k in STEP_KEYS for v in (k, k.capitalize(), k.upper())}


class Reading(NamedTuple):
    step: int | None  # the step the line sets, if any
    pairs: list[tuple[str, str]]  # (key, value as printed), step keys left out


def step_of(key: str, text: str) -> int | None:
    """The step a ``step`` or ``epoch`` pair sets: an epoch rounds up, a fractional step sets none."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    if key == "epoch":
        return math.ceil(value)
    return int(value) if value.is_integer() else None


def read(line: str) -> Reading | None:
    """The step and pairs of one line (one frame of a redrawn one); None when it has neither."""
    if (":" not in line and "=" not in line) or not _CANDIDATE.search(line):  # the common case: no value
        head = _EPOCH.match(line) if "poch" in line[:12] else None
        return Reading(int(head[1]), []) if head and not line[head.end():].strip(" \t:|-") else None
    if line.startswith(DIAGNOSTICS):
        return None
    if "(" in line and ("tensor(" in line or "float" in line):
        line = _UNWRAP.sub(r"\1", line)
    step = None
    head = _EPOCH.match(line) if "poch" in line[:12] else None
    if head:
        step, line = int(head[1]), line[head.end():]
    elif "]\t" in line and (head := _ROUND.match(line)):
        return _booster(int(head[1]), line[head.end():])
    text = line.strip()
    if text[:1] == "{" and text[-1:] == "}":
        pairs = _QUOTED.findall(text)
    else:
        if text.endswith(")") and (guild := _GUILD_STEP.search(text)):
            step, text = int(guild[1]), text[:guild.start()]
        pairs = _tail_pairs(text) if ":" in text else []
        if "=" in text:
            pairs += _EQUALS.findall(text)
    return _with_step(step, pairs)


def _with_step(step: int | None, pairs: list[tuple[str, str]]) -> Reading | None:
    kept = [(key, text) for key, text in pairs if key not in _NOT_METRICS]
    if len(kept) < len(pairs):
        found = {key.lower(): step_of(key.lower(), text) for key, text in pairs if key.lower() in STEP_KEYS}
        for name in STEP_KEYS:  # a step pair wins over an epoch pair, which wins over a prefix
            if found.get(name) is not None:
                step = found[name]
                break
    if step is None and not kept:
        return None
    return Reading(step, kept)


def _tail_pairs(text: str) -> list[tuple[str, str]]:
    """The ``key: value`` pairs that end the line, apart by separators, after a prefix that ends in one."""
    matches = list(_COLON.finditer(text))
    if not matches:
        return []
    rest = text[matches[-1].end():]
    if rest and rest.strip(" \t,;|") and _EQUALS.sub("", rest).strip(" \t,;|-"):  # only `key=value` pairs may follow
        return []
    first = len(matches) - 1
    while first:
        gap = text[matches[first - 1].end():matches[first].start()]
        if gap not in _GAPS and not _GAP.fullmatch(gap):
            break
        first -= 1
    prefix = text[:matches[first].start()].rstrip(" ")
    if prefix and prefix[-1] not in _PREFIX_ENDS:
        return []
    return [m.groups() for m in matches[first:]]


def _booster(step: int, rest: str) -> Reading | None:
    """XGBoost's and LightGBM's round lines: ``[i]`` then tab-separated results."""
    pairs = []
    for item in rest.split("\t"):
        match = _BOOSTER.fullmatch(item.strip())
        if match is None:
            return None
        data, metric, value = match.groups()
        pairs.append((f"{data}-{metric}" if metric else data, value))
    return Reading(step, pairs)
