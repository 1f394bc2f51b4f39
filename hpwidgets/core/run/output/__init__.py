"""What a trial prints and writes, read for its scalars.

``terminal`` keeps a terminal's view of the output (a redrawn line once), ``formats`` reads the
lines of the stacks people train with, ``patterns`` the user's own (Guild's syntax), ``reader``
puts them together for one trial; ``event_files`` reads TensorBoard event files without
TensorFlow and ``event_watch`` looks at a running trial's every half second.
"""
