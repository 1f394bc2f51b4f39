// node --test js/  : the table module's pure helpers, its CSV download and its render, on a tiny fake DOM.
import assert from "node:assert/strict";
import { test } from "node:test";

import table, { csvBlob, csvFileName, downloadCsv, escapeHtml, tableHtml } from "./table.js";

const PAYLOAD = "<img src=x onerror=alert(1)>";

test("escapeHtml escapes the five HTML specials and stringifies", () => {
  assert.equal(escapeHtml(PAYLOAD), "&lt;img src=x onerror=alert(1)&gt;");
  assert.equal(escapeHtml(`a&b "c" 'd'`), "a&amp;b &quot;c&quot; &#39;d&#39;");
  assert.equal(escapeHtml(null), "");
  assert.equal(escapeHtml(undefined), "");
  assert.equal(escapeHtml(1.5), "1.5");
});

test("tableHtml escapes headers, cells and caption", () => {
  const html = tableHtml(["run", "<b>"], [["abc", PAYLOAD]], "top <1>");
  assert.equal(
    html,
    '<div class="hpw-caption">top &lt;1&gt;</div>' +
      '<div class="hpw-scroll"><table class="hpw-rows"><thead><tr><th>run</th><th>&lt;b&gt;</th></tr></thead>' +
      "<tbody><tr><td>abc</td><td>&lt;img src=x onerror=alert(1)&gt;</td></tr></tbody></table></div>",
  );
  assert.ok(!html.includes("<img"));
});

test("tableHtml without rows or caption", () => {
  assert.equal(
    tableHtml(["run"], []),
    '<div class="hpw-scroll"><table class="hpw-rows"><thead><tr><th>run</th></tr></thead><tbody></tbody></table></div>',
  );
});

test("tableHtml opens a failed run's details from its status cell, escaped", () => {
  const html = tableHtml(["run", "status"], [["a", "completed"], ["b", "failed"]], "", ["", "exit code 1\n<b>boom</b>"]);
  assert.equal(
    html,
    '<div class="hpw-scroll"><table class="hpw-rows"><thead><tr><th>run</th><th>status</th></tr></thead><tbody>' +
      "<tr><td>a</td><td>completed</td></tr>" +
      "<tr><td>b</td><td><details><summary>failed</summary><pre>exit code 1\n&lt;b&gt;boom&lt;/b&gt;</pre></details></td></tr>" +
      "</tbody></table></div>",
  );
});

test("csvFileName keeps safe names and ends in .csv", () => {
  assert.equal(csvFileName("hpw-1a2b3c4d.csv"), "hpw-1a2b3c4d.csv");
  assert.equal(csvFileName("../../etc/passwd"), "etc_passwd.csv");
  assert.equal(csvFileName("a b<c>.CSV"), "a_b_c_.csv");
  assert.equal(csvFileName(""), "runs.csv");
  assert.equal(csvFileName(undefined), "runs.csv");
  assert.equal(csvFileName("report.exe"), "report.exe.csv");
});

test("csvBlob is a UTF-8 CSV blob of the text", async () => {
  const blob = csvBlob("run,loss\nabc,0.5\n");
  assert.equal(blob.type, "text/csv;charset=utf-8");
  assert.equal(await blob.text(), "run,loss\nabc,0.5\n");
});

/** A few DOM calls, recorded. */
function fakeDocument() {
  const clicks = [];
  const make = (tag) => {
    const node = {
      tagName: tag.toUpperCase(), style: {}, children: [], listeners: {}, className: "",
      textContent: "", innerHTML: "", removed: false,
      appendChild(child) { this.children.push(child); return child; },
      append(...kids) { this.children.push(...kids); },
      remove() { this.removed = true; },
      click() { clicks.push(this); (this.listeners.click ?? []).forEach((fn) => fn()); },
      addEventListener(name, fn) { (this.listeners[name] ??= []).push(fn); },
      removeEventListener(name, fn) { this.listeners[name] = (this.listeners[name] ?? []).filter((f) => f !== fn); },
    };
    return node;
  };
  const doc = { createElement: make, clicks };
  doc.body = make("body");
  return doc;
}

test("downloadCsv clicks an <a download> on a blob URL, then revokes it", async () => {
  const doc = fakeDocument();
  const made = [];
  const revoked = [];
  const urls = {
    createObjectURL(blob) { made.push(blob); return "blob:fake/1"; },
    revokeObjectURL(url) { revoked.push(url); },
  };
  const link = downloadCsv(doc, urls, "hpw-1a2b3c4d.csv", "run\nabc\n");
  assert.equal(link.tagName, "A");
  assert.equal(link.href, "blob:fake/1");
  assert.equal(link.download, "hpw-1a2b3c4d.csv");
  assert.deepEqual(doc.clicks, [link]);
  assert.equal(link.removed, true);
  assert.equal(await made[0].text(), "run\nabc\n");
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(revoked, ["blob:fake/1"]);
});

function fakeModel(state) {
  const handlers = {};
  const sent = [];
  return {
    sent, handlers,
    get: (name) => state[name],
    set(name, value) { state[name] = value; (handlers[`change:${name}`] ?? []).forEach((fn) => fn()); },
    on(name, fn) { (handlers[name] ??= []).push(fn); },
    off(name, fn) { handlers[name] = (handlers[name] ?? []).filter((f) => f !== fn); },
    send(msg) { sent.push(msg); },
    receive(msg) { (handlers["msg:custom"] ?? []).forEach((fn) => fn(msg)); },
  };
}

test("render draws the rows, redraws on change, asks for the CSV and cleans up", () => {
  const doc = fakeDocument();
  const el = doc.createElement("div");
  el.ownerDocument = doc;
  const model = fakeModel({ columns: ["run", "x"], rows: [["abc", PAYLOAD]], caption: "" });
  const cleanup = table.render({ model, el });
  const [button, body] = el.children;
  assert.equal(button.className, "hpw-csv jupyter-button");
  assert.equal(button.textContent, "Download CSV");
  assert.equal(body.innerHTML, tableHtml(["run", "x"], [["abc", PAYLOAD]], ""));
  model.set("rows", [["def", "1"]]);
  assert.equal(body.innerHTML, tableHtml(["run", "x"], [["def", "1"]], ""));
  button.click();
  assert.deepEqual(model.sent, [{ type: "csv" }]);
  cleanup();
  assert.equal(model.handlers["change:rows"].length, 0);
  assert.equal(model.handlers["msg:custom"].length, 0);
  assert.equal(button.listeners.click.length, 0);
});

test("render saves the CSV the kernel sends back", () => {
  const doc = fakeDocument();
  const el = doc.createElement("div");
  el.ownerDocument = doc;
  const model = fakeModel({ columns: [], rows: [], caption: "" });
  table.render({ model, el });
  model.receive({ type: "other" });
  assert.equal(doc.clicks.length, 0);
  model.receive({ type: "csv", name: "hpw-1a2b3c4d.csv", text: "run\n" });
  assert.equal(doc.clicks.length, 1);
  assert.equal(doc.clicks[0].download, "hpw-1a2b3c4d.csv");
  assert.match(doc.clicks[0].href, /^blob:/);
});
