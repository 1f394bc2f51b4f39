// The runs table of hpwidgets: a plain ES module for anywidget (no build step).
// State comes from the model's traits (columns, rows, caption); the Download CSV button asks
// the kernel for the CSV with a custom message and saves the answer through a Blob.

/**
 * The Download CSV button's ask (CsvRequest in hpwidgets/notebook/table.py).
 * @typedef {{ type: "csv" }} CsvRequest
 */

/**
 * The kernel's answer: the file's name and its text (CsvFile in hpwidgets/notebook/table.py).
 * @typedef {{ type: "csv", name: string, text: string }} CsvFile
 */

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Text made safe to place in HTML, as an element's content or a quoted attribute.
 * @param {unknown} value
 * @returns {string}
 */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * The table as HTML; every value escaped (flag values are user text). A row's details (why a
 * run failed and the end of its output) open from its status cell with one click.
 * @param {string[]} columns
 * @param {string[][]} rows
 * @param {string} [caption]
 * @param {string[]} [details]
 * @returns {string}
 */
export function tableHtml(columns, rows, caption = "", details = []) {
  const status = columns.indexOf("status");
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const cell = (value, j, note) =>
    j === status && note
      ? `<td><details><summary>${escapeHtml(value)}</summary><pre>${escapeHtml(note)}</pre></details></td>`
      : `<td>${escapeHtml(value)}</td>`;
  const body = rows
    .map((row, i) => "<tr>" + row.map((v, j) => cell(v, j, details[i] ?? "")).join("") + "</tr>")
    .join("");
  const title = caption ? `<div class="hpw-caption">${escapeHtml(caption)}</div>` : "";
  return (
    `${title}<div class="hpw-scroll"><table class="hpw-rows"><thead><tr>${head}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>`
  );
}

/**
 * A download name that cannot leave the downloads folder or hide its type.
 * @param {unknown} name
 * @returns {string}
 */
export function csvFileName(name) {
  const base = String(name ?? "")
    .replace(/\.csv$/i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._]+/, "");
  return (base || "runs") + ".csv";
}

/**
 * @param {string} text
 * @returns {Blob}
 */
export function csvBlob(text) {
  return new Blob([text], { type: "text/csv;charset=utf-8" });
}

/**
 * Hand the browser a CSV file: a Blob URL clicked through an <a download>.
 * @param {Document} doc
 * @param {{createObjectURL(b: Blob): string, revokeObjectURL(u: string): void}} urls
 * @param {string} name
 * @param {string} text
 * @returns {HTMLAnchorElement}
 */
export function downloadCsv(doc, urls, name, text) {
  const url = urls.createObjectURL(csvBlob(text));
  const link = doc.createElement("a");
  link.href = url;
  link.download = csvFileName(name);
  link.style.display = "none";
  doc.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => urls.revokeObjectURL(url), 0); // after the browser took the click
  return link;
}

/** @param {{ model: any, el: HTMLElement }} ctx */
function render({ model, el }) {
  const doc = el.ownerDocument;
  const button = doc.createElement("button");
  button.className = "hpw-csv jupyter-button";
  button.textContent = "Download CSV";
  const body = doc.createElement("div");
  const draw = () => {
    body.innerHTML = tableHtml(
      model.get("columns") ?? [],
      model.get("rows") ?? [],
      model.get("caption"),
      model.get("details") ?? [],
    );
  };
  /** @type {CsvRequest} */
  const request = { type: "csv" };
  const ask = () => model.send(request);
  /** @param {CsvFile | { type?: unknown }} msg */
  const onMessage = (msg) => {
    if (msg && msg.type === "csv") downloadCsv(doc, URL, msg.name, msg.text);
  };
  button.addEventListener("click", ask);
  const changes = ["change:columns", "change:rows", "change:caption", "change:details"];
  for (const name of changes) model.on(name, draw);
  model.on("msg:custom", onMessage);
  draw();
  el.append(button, body);
  return () => {
    for (const name of changes) model.off(name, draw);
    model.off("msg:custom", onMessage);
    button.removeEventListener("click", ask);
  };
}

export default { render };
