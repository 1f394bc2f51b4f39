// The Runs sidebar of hpwidgets: a JupyterLab plugin over the server extension's REST routes
// (hpwidgets/labserver). Requests go through ServerConnection, which adds the server's token and
// XSRF header and honours its base URL (a JupyterHub prefix included). The listing is pushed by
// the server as Server-Sent Events read through fetch, so the browser never polls the store.
// In JupyterLab the panel sits in the left sidebar and a batch opens in the main area; in
// Notebook 7's file browser (its INotebookTree, shared as a singleton) both are tabs beside Files.

import { INotebookTree } from "@jupyter-notebook/tree";
import { ILabShell } from "@jupyterlab/application";
import { MainAreaWidget } from "@jupyterlab/apputils";
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";
import { LabIcon } from "@jupyterlab/ui-components";
import { Widget } from "@lumino/widgets";

import { batchItem, el, formatElapsed, runsTable, splitEvents } from "./runs.js";

const RECONNECT_MS = 2000;
const runsIcon = new LabIcon({
  name: "hpwidgets:runs",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161"><rect x="3" y="12" width="4" height="9"/>' +
    '<rect x="10" y="6" width="4" height="15"/><rect x="17" y="3" width="4" height="18"/></g></svg>',
});

class Api {
  constructor() {
    this.settings = ServerConnection.makeSettings();
  }

  url(...parts) {
    return URLExt.join(this.settings.baseUrl, "hpwidgets", ...parts.map(encodeURIComponent));
  }

  async request(parts, init = {}) {
    return ServerConnection.makeRequest(this.url(...parts), init, this.settings);
  }

  /** The JSON answer, or an Error carrying the server's one-line message. */
  async json(parts, init = {}) {
    const response = await this.request(parts, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || `${response.status} ${response.statusText}`);
    return data;
  }
}

class BatchView extends Widget {
  constructor(api, row) {
    super();
    this.api = api;
    this.batchId = row.id;
    this.addClass("hpw-view");
    this.id = `hpwidgets-batch-${row.id}`;
    this.node.append(el(document, "div", "hpw-view-status", "Loading…"));
  }

  async refresh() {
    /** @type {import("./runs.js").BatchView} */
    let view;
    try {
      view = await this.api.json(["batches", this.batchId]);
    } catch (error) {
      this.node.replaceChildren(el(document, "div", "hpw-view-error", String(error.message ?? error)));
      return;
    }
    const doc = document;
    const parts = [el(doc, "pre", "hpw-plan", view.plan), el(doc, "div", "hpw-progress", view.progress)];
    if (view.note) parts.push(el(doc, "div", "hpw-note", view.note));
    if (view.png) {
      const img = el(doc, "img", "hpw-plot");
      img.alt = "hpwidgets plot";
      img.src = `data:image/png;base64,${view.png}`;
      parts.push(img);
    }
    parts.push(runsTable(doc, view.table));
    const csv = el(doc, "button", "hpw-csv jp-mod-styled", "Download CSV");
    csv.addEventListener("click", () => this.download(view.csv_name));
    parts.push(csv);
    this.node.replaceChildren(...parts);
    this.node.dataset.running = String(view.running);
  }

  async download(name) {
    const response = await this.api.request(["batches", this.batchId, "csv"]);
    const blob = new Blob([await response.text()], { type: "text/csv;charset=utf-8" });
    const link = el(document, "a", "");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }
}

class RunsPanel extends Widget {
  /** ``place(widget)`` adds a batch's view, ``reveal(widget)`` brings it to the front. */
  constructor(app, api, place, reveal) {
    super();
    this.app = app;
    this.place = place;
    this.reveal = reveal;
    this.api = api;
    this.id = "hpwidgets-runs";
    this.addClass("hpw-runs");
    this.title.icon = runsIcon;
    this.title.caption = "Runs";
    this.views = new Map(); // batch id -> its MainAreaWidget
    this.rows = new Map(); // batch id -> the row last shown (a view refreshes when its row changes)
    this.receivedAt = Date.now();
    this.message = el(document, "div", "hpw-runs-message");
    this.list = el(document, "ul", "hpw-runs-list");
    this.node.append(el(document, "h2", "hpw-runs-title", "Runs"), this.message, this.list);
    this.ticker = setInterval(() => this.tick(), 1000);
    this.aborter = new AbortController();
    this.follow();
  }

  dispose() {
    clearInterval(this.ticker);
    this.aborter.abort();
    super.dispose();
  }

  async follow() {
    const signal = this.aborter.signal;
    while (!signal.aborted) {
      try {
        const response = await this.api.request(["events"], { signal });
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let events;
          [events, buffer] = splitEvents(buffer + decoder.decode(value, { stream: true }));
          for (const data of events) this.showBatches(JSON.parse(data).batches);
        }
      } catch (error) {
        if (signal.aborted) return;
        this.message.textContent = `The Runs list lost its server (${error.message ?? error}); reconnecting…`;
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  showBatches(rows) {
    if (this.message.dataset.kind !== "stop") this.message.textContent = "";
    this.receivedAt = Date.now();
    const actions = { open: (row) => this.open(row), stop: (row) => this.stop(row) };
    const items = rows.map((row) => batchItem(document, row, actions));
    if (!rows.length) items.push(el(document, "li", "hpw-runs-empty", "No batches yet: %hprun starts one."));
    this.list.replaceChildren(...items);
    const changed = (row) => JSON.stringify({ ...this.rows.get(row.id), elapsed: 0 }) !==
      JSON.stringify({ ...row, elapsed: 0 });
    for (const row of rows) {
      const view = this.views.get(row.id);
      if (view && !view.isDisposed && changed(row)) view.content.refresh();
    }
    this.rows = new Map(rows.map((row) => [row.id, row]));
  }

  tick() {
    const since = (Date.now() - this.receivedAt) / 1000;
    for (const item of this.list.querySelectorAll(".hpw-runs-item.hpw-running")) {
      const row = this.rows.get(item.dataset.batch);
      if (row) item.querySelector(".hpw-runs-elapsed").textContent = formatElapsed(row.elapsed + since);
    }
  }

  open(row) {
    let view = this.views.get(row.id);
    if (!view || view.isDisposed) {
      view = new MainAreaWidget({ content: new BatchView(this.api, row) });
      view.id = `hpwidgets-batch-view-${row.id}`;
      view.title.label = `${row.operation} ${row.short}`;
      view.title.icon = runsIcon;
      view.title.closable = true;
      this.views.set(row.id, view);
      this.place(view);
      view.content.refresh();
    }
    this.reveal(view);
  }

  async stop(row) {
    this.message.dataset.kind = "stop";
    this.message.textContent = `Stopping batch ${row.short}…`;
    try {
      const answer = await this.api.json(["batches", row.id, "stop"], { method: "POST" });
      this.message.textContent = answer.message;
    } catch (error) {
      this.message.textContent = String(error.message ?? error);
    }
  }
}

/** @type {import('@jupyterlab/application').JupyterFrontEndPlugin<void>} */
const plugin = {
  id: "hpwidgets:runs",
  description: "A Runs panel: the user's hpwidgets batches, live (JupyterLab's left sidebar, Notebook 7's file browser)",
  autoStart: true,
  optional: [ILabShell, INotebookTree],
  activate: (app, labShell, tree) => {
    if (labShell) {
      const panel = new RunsPanel(app, new Api(), (view) => app.shell.add(view, "main"),
                                  (view) => app.shell.activateById(view.id));
      app.shell.add(panel, "left", { rank: 600 });
    } else if (tree) {
      const panel = new RunsPanel(app, new Api(), (view) => tree.addWidget(view),
                                  (view) => { tree.currentWidget = view; });
      panel.title.label = "Runs";
      tree.addWidget(panel);
    }
  },
};

export default plugin;
