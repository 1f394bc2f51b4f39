"""Seams shared by the tests: records without a run, waiting that says what never happened, trials
without a subprocess, time that moves only when a test says so."""
