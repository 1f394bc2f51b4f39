"""Less exploration at the faces of the unit box: the acquisition's std is damped near them.

Far from data a GP's std is largest at the faces and corners of the box, which data bound from
one side only, so a confidence bound keeps sending trials to the ends of the flags' ranges for
the std alone (bench/README.md: Branin, the tutorial). Within ``FACE`` of either end of an
ordered column the std's weight falls linearly towards 0, so a trial goes to a face when the
model expects a good value there, not because nothing is known of it. The model itself is
unchanged (the plot's band, the posterior): only the choice of where to look next.

Candidates and the points the gradient climb reaches are scored with the damped std; the climb
itself runs on the undamped acquisition. Damping it there too measured the same on the suite and
made a suggestion at 100 observations in 6-D take 54 ms instead of 19 (bench/README.md).
"""

from __future__ import annotations

import numpy as np

FACE = 0.1  # a tenth of a flag's range at either end
_FLOOR = 1e-3  # keeps EI and PI defined at a face


def face_weight(u: np.ndarray, ordered: np.ndarray, half_step: np.ndarray | float = 0.0) -> np.ndarray:
    """The std's weight at each row of u (unit-cube encodings). ``half_step`` (per ordered
    column) is half the gap between an integer's encoded values: an end value's own share of the
    range counts as inside, so a flag of few values (0 or 1) is not all face."""
    v = u[:, ordered]
    f = np.clip((np.minimum(v, 1.0 - v) + half_step) / FACE, 0.0, 1.0)
    return np.maximum(f.prod(1), _FLOOR)
