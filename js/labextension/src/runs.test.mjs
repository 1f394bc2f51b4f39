// The Runs sidebar's pure parts in node: elapsed times, a listed batch (on a tiny fake DOM), the
// stream's parser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { batchItem, formatElapsed, splitEvents } from "./runs.js";

test("elapsed times read as seconds, minutes or hours", () => {
  assert.deepEqual([0, 9.7, 59, 60, 184, 3599, 3600, 7500].map(formatElapsed),
                   ["0s", "9s", "59s", "1m 00s", "3m 04s", "59m 59s", "1h 00m", "2h 05m"]);
  assert.equal(formatElapsed(-3), "0s");
});

/** The few DOM calls batchItem makes. */
function fakeDocument() {
  const make = (tag) => ({
    tagName: tag.toUpperCase(), className: "", textContent: "", title: "", dataset: {}, children: [],
    append(...kids) { this.children.push(...kids); },
    addEventListener() {},
  });
  return { createElement: make };
}

/** The text of every element of a class under ``node``. */
function textsOf(node, cls) {
  const found = node.className.split(" ").includes(cls) ? [node.textContent] : [];
  return found.concat(...node.children.map((c) => textsOf(c, cls)));
}

test("a listed batch shows the state and counts the server wrote, as they are", () => {
  // A batch of one completed and one pruned trial, as core/results/batch_info.overview sends it.
  const row = { id: "4f2a9c1b00", short: "4f2a9c1b", operation: "train.py", optimizer: "grid", flags: "x=[1,2]",
                running: false, stoppable: false, state: "finished", elapsed: 2,
                progress: "2 of 2 done · 1 pruned · best loss 1 (77aa01bc)" };
  const item = batchItem(fakeDocument(), row, { open() {}, stop() {} });
  assert.deepEqual(textsOf(item, "hpw-runs-state"), ["finished"]);
  assert.deepEqual(textsOf(item, "hpw-runs-counts"), ["2 of 2 done · 1 pruned · best loss 1 (77aa01bc)"]);
  assert.deepEqual(textsOf(item, "hpw-runs-elapsed"), ["2s"]);
  assert.equal(item.className, "hpw-runs-item hpw-ended");
});

test("the stream splits into complete events; comments carry nothing; a partial one waits", () => {
  const [events, rest] = splitEvents('data: {"a":1}\n\n: keep-alive\n\ndata: {"b"');
  assert.deepEqual(events, ['{"a":1}']);
  assert.equal(rest, 'data: {"b"');
  const [more, none] = splitEvents(rest + ":2}\n\n");
  assert.deepEqual(more.map((d) => JSON.parse(d)), [{ b: 2 }]);
  assert.equal(none, "");
});
