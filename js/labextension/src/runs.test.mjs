// The Runs sidebar's pure parts in node: elapsed times, the progress line, the stream's parser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatElapsed, progressLine, splitEvents } from "./runs.js";

test("elapsed times read as seconds, minutes or hours", () => {
  assert.deepEqual([0, 9.7, 59, 60, 184, 3599, 3600, 7500].map(formatElapsed),
                   ["0s", "9s", "59s", "1m 00s", "3m 04s", "59m 59s", "1h 00m", "2h 05m"]);
  assert.equal(formatElapsed(-3), "0s");
});

test("the progress line names what is running, failed and the best", () => {
  assert.equal(progressLine({ done: 0, total: 4, running_trials: 0, failed: 0, best: null }), "0/4 done");
  assert.equal(progressLine({ done: 3, total: 9, running_trials: 2, failed: 1,
                              best: { objective: "loss", value: "-0.91" } }),
               "3/9 done · 2 running · 1 failed · best loss -0.91");
});

test("the stream splits into complete events; comments carry nothing; a partial one waits", () => {
  const [events, rest] = splitEvents('data: {"a":1}\n\n: keep-alive\n\ndata: {"b"');
  assert.deepEqual(events, ['{"a":1}']);
  assert.equal(rest, 'data: {"b"');
  const [more, none] = splitEvents(rest + ":2}\n\n");
  assert.deepEqual(more.map((d) => JSON.parse(d)), [{ b: 2 }]);
  assert.equal(none, "");
});
