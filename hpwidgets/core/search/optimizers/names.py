"""The optimizers' names, apart from their code, so that any optimizer may name its peers."""

NAMES = ("grid", "random", "gp", "forest", "gbrt")
ALIASES = {"bayesian": "gp", "gaussian": "gp"}
BAYESIAN = ("gp", "forest", "gbrt")
ACCEPTED = "grid, random, gp (aliases: bayesian, gaussian), forest, gbrt"
