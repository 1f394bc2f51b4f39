// What the Runs sidebar shows, as pure functions over plain data and a document: the elapsed
// time, the stream's parser and the DOM of a list item and of a batch view. A batch's state and
// counts are words the server formats (core/results/counts.py); they are shown, never re-derived.
// Every value from the server (flag values, labels, operation names) is placed with textContent,
// never parsed as markup.

// The server's JSON (hpwidgets/labserver/payloads.py holds the same types; a test compares them).
/**
 * @typedef {{ id: string, short: string, operation: string, optimizer: string, flags: string, running: boolean, stoppable: boolean, where: string, stop_note: string, total: number, started: number | null, elapsed: number, state: string, progress: string }} BatchRow
 * @typedef {{ batches: BatchRow[] }} Listing
 * @typedef {{ batches: BatchRow[], at: number }} ListingEvent
 * @typedef {{ columns: string[], rows: string[][], caption: string, details: string[] }} ViewTable
 * @typedef {{ id: string, short: string, operation: string, running: boolean, plan: string, progress: string, note: string, png: string, table: ViewTable, csv_name: string }} BatchView
 * @typedef {{ message: string }} Message
 */

/**
 * ``12s``, ``3m 04s``, ``2h 05m``: the elapsed time as the listing shows it.
 * @param {number} seconds
 * @returns {string}
 */
export function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Split a Server-Sent Events buffer into the data of its complete events and the rest.
 * Comment lines (``: keep-alive``) carry nothing.
 * @param {string} buffer
 * @returns {[string[], string]}
 */
export function splitEvents(buffer) {
  const blocks = buffer.split("\n\n");
  const rest = blocks.pop() ?? "";
  const data = [];
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.startsWith("data:"));
    if (lines.length) data.push(lines.map((l) => l.slice(5).replace(/^ /, "")).join("\n"));
  }
  return [data, rest];
}

/**
 * An element with a class and text content.
 * @param {Document} doc
 * @param {string} tag
 * @param {string} cls
 * @param {unknown} [text]
 * @returns {HTMLElement}
 */
export function el(doc, tag, cls, text) {
  const node = doc.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/**
 * One batch of the listing. ``actions.open(row)`` and ``actions.stop(row)`` are called on clicks.
 * A running batch that no Stop from here can reach says where it can be stopped instead.
 * @param {Document} doc
 * @param {BatchRow} row
 * @param {{open: (row: BatchRow) => void, stop: (row: BatchRow) => void}} actions
 * @returns {HTMLElement}
 */
export function batchItem(doc, row, actions) {
  const item = el(doc, "li", `hpw-runs-item ${row.running ? "hpw-running" : "hpw-ended"}`);
  item.dataset.batch = row.id;
  const head = el(doc, "div", "hpw-runs-head");
  const open = el(doc, "button", "hpw-runs-open", `${row.operation} ${row.short}`);
  open.title = "Open its plot and table";
  open.addEventListener("click", () => actions.open(row));
  head.append(open, el(doc, "span", "hpw-runs-state", row.state));
  item.append(head);
  if (row.flags || row.optimizer) {
    item.append(el(doc, "div", "hpw-runs-flags", [row.optimizer, row.flags].filter(Boolean).join(" · ")));
  }
  const line = el(doc, "div", "hpw-runs-progress");
  line.append(el(doc, "span", "hpw-runs-counts", row.progress), el(doc, "span", "hpw-runs-sep", " · "),
              el(doc, "span", "hpw-runs-elapsed", formatElapsed(row.elapsed)));
  item.append(line);
  if (row.running && row.stoppable) {
    const stop = el(doc, "button", "hpw-runs-stop jp-mod-styled jp-mod-warn", "Stop");
    stop.title = "Kill the running trials; keep the finished runs";
    stop.addEventListener("click", () => {
      stop.disabled = true;
      stop.textContent = "Stopping";
      actions.stop(row);
    });
    item.append(stop);
  } else if (row.running) {
    item.append(el(doc, "div", "hpw-runs-where", row.stop_note));
  }
  return item;
}

/**
 * The table of a batch's view: columns, rows as text, a failed run's details under its status.
 * @param {Document} doc
 * @param {ViewTable} table
 * @returns {HTMLElement}
 */
export function runsTable(doc, table) {
  const box = el(doc, "div", "hpw-view-table");
  if (table.caption) box.append(el(doc, "div", "hpw-caption", table.caption));
  const grid = el(doc, "table", "hpw-rows");
  const head = el(doc, "tr", "");
  for (const c of table.columns) head.append(el(doc, "th", "", c));
  const thead = el(doc, "thead", "");
  thead.append(head);
  const body = el(doc, "tbody", "");
  const status = table.columns.indexOf("status");
  table.rows.forEach((row, i) => {
    const tr = el(doc, "tr", "");
    row.forEach((value, j) => {
      const td = el(doc, "td", "");
      const note = table.details[i] ?? "";
      if (j === status && note) {
        const details = el(doc, "details", "");
        details.append(el(doc, "summary", "", value), el(doc, "pre", "", note));
        td.append(details);
      } else {
        td.textContent = value;
      }
      tr.append(td);
    });
    body.append(tr);
  });
  grid.append(thead, body);
  box.append(grid);
  return box;
}
