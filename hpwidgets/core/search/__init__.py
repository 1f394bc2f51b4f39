"""What a search is: Guild's flag syntax, search spaces, the batch plan and its objective, priors
from earlier runs, the optimizers (ask/tell) and pruners, and what explains a finished search.

May import ``hpwidgets.core.errors`` and ``hpwidgets.core.records``, numpy and (lazily, in the
Bayesian optimizer only) scikit-optimize. Never the store, the runner or any adapter: priors
take the store as an argument.
"""
