"""The tutorial objective: loss = sin(5x)(1 - tanh(x^2)) + noise; the optimum is near x = -0.29."""

import numpy as np

x = 0.1
noise = 0.1

loss = np.sin(5 * x) * (1 - np.tanh(x**2)) + np.random.randn() * noise

print(f"loss: {loss}")
