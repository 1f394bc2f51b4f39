"""What a trial prints, read two ways: as a terminal shows it (``terminal``), and as scalars in the
formats of the stacks people train with (``formats``) or the user's own patterns (``patterns``)."""
