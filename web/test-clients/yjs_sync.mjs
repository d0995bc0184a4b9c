#!/usr/bin/env node
// A test driver for the live notes with the REAL npm clients: yjs + y-websocket's
// WebsocketProvider (with the `ws` package as WebSocketPolyfill, since Node 20 has no global
// WebSocket, `disableBc: true`, since Node's global BroadcastChannel would let two providers in
// this process sync without the server, and `params: {token}` for authentication).
//
// By default a client is built by the panel's own src/notes/connection.js (the module the
// browser uses, with its presence fixes); `"plain": true` builds a bare WebsocketProvider.
//
// Usage:
//   node yjs_sync.mjs                  commands as JSON lines on stdin, replies on stdout
//   node yjs_sync.mjs --script F.json  a JSON array of commands, run in order, then exit
//
// Every command is an object with "cmd" and optionally "seq" (echoed in the reply). Each
// reply is one JSON line {"seq", "ok": true, ...} or {"seq", "ok": false, "error"}; status
// changes are reported as {"event": "status", "client", "status"} lines in between.
//
//   connect   {client, url, room, token, name?, role?, plain?, timeoutMs?}  waits until synced
//   type      {jobs: [{client, at, text, delayMs?}]}  all jobs type at once, one character
//             per transaction, each at its own cursor (kept next to its own last character,
//             as an editor does); at: "start" | "end" | index | {lineEnd: n (1-based)} |
//             {after: "substring"}
//   converge  {clients, timeoutMs?}          until every listed client has the same text
//   waitFor   {client, contains?: [..], equals?, timeoutMs?}
//   waitPeers {client, names?: [..], absent?: [..], timeoutMs?}  until those people are
//             present and those absent (awareness)
//   waitStatus {client, connected: bool, synced?: bool, timeoutMs?}
//   sleep     {ms}
//   state     {client}   text, connected, synced, peers (names seen through awareness)
//   drop      {client}   cut the socket without a goodbye (the provider reconnects by itself)
//   sendRaw   {client, bytes: [..]}  one raw binary frame on the socket
//   waitClosed {client, timeoutMs?}  until the server closed it for good (codes 4400-4499)
//   destroy   {client}
//   quit      {}

import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { connectNotes, TEXT_NAME } from "../src/notes/connection.js";

const clients = new Map();

function emit(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function client(name) {
  const found = clients.get(name);
  if (!found) throw new Error(`no client named ${JSON.stringify(name)}`);
  return found;
}

function peers(c) {
  const names = [];
  c.awareness.getStates().forEach((state, id) => {
    if (id !== c.doc.clientID && state?.user?.name) names.push(state.user.name);
  });
  return names.sort();
}

function describe(c) {
  return {
    client: c.name,
    text: c.ytext.toString(),
    connected: c.provider.wsconnected,
    synced: c.provider.synced,
    peers: peers(c),
    closed: c.closed,
  };
}

function connect({ client: name, url, room, token, name: userName, role = "mentee", plain }) {
  if (clients.has(name)) throw new Error(`client ${name} exists`);
  const user = { name: userName ?? name, role, color: "#0b6b63", colorLight: "#0b6b6333" };
  const providerOptions = { WebSocketPolyfill: WebSocket, disableBc: true, params: { token } };
  let c;
  const onStatus = (status) => emit({ event: "status", client: name, status });
  const onClosed = (event) => {
    c.closed = { code: event.code, reason: event.reason };
    emit({ event: "closed", client: name, ...c.closed });
  };
  if (plain) {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(url, room, doc, { connect: false, ...providerOptions });
    provider.awareness.setLocalStateField("user", user);
    provider.on("status", ({ status }) => onStatus(status));
    provider.on("closed", onClosed);
    c = {
      doc,
      ytext: doc.getText(TEXT_NAME),
      provider,
      awareness: provider.awareness,
      connect: () => provider.connect(),
      destroy: () => (provider.destroy(), doc.destroy()),
    };
  } else {
    c = connectNotes(
      { meetingId: room, user, serverUrl: url, providerOptions },
      { onStatus, onClosed },
    );
  }
  c.name = name;
  c.closed = null;
  c.awareness.on("change", ({ added, removed }) => {
    const remote = (ids) => ids.filter((id) => id !== c.doc.clientID);
    if (remote(added).length || remote(removed).length) {
      emit({ event: "peers", client: name, peers: peers(c) });
    }
  });
  clients.set(name, c);
  c.connect();
  return c;
}

function resolveAt(ytext, at) {
  const text = ytext.toString();
  if (at === "start") return 0;
  if (at === "end" || at == null) return text.length;
  if (typeof at === "number") return Math.max(0, Math.min(at, text.length));
  if (typeof at.lineEnd === "number") {
    const lines = text.split("\n");
    if (at.lineEnd < 1 || at.lineEnd > lines.length) {
      throw new Error(`no line ${at.lineEnd} (the text has ${lines.length})`);
    }
    return lines.slice(0, at.lineEnd).join("\n").length;
  }
  if (typeof at.after === "string") {
    const found = text.indexOf(at.after);
    if (found < 0) throw new Error(`${JSON.stringify(at.after)} is not in the text`);
    return found + at.after.length;
  }
  throw new Error(`cannot place the cursor at ${JSON.stringify(at)}`);
}

/** Type `text` one code point per transaction, the cursor staying after our own last one. */
async function typeInto(c, at, text, delayMs) {
  let index = resolveAt(c.ytext, at);
  // assoc -1: the cursor sticks to the character on its left (ours), so what the other person
  // types at the same spot meanwhile lands after our cursor, as in CodeMirror.
  let cursor = Y.createRelativePositionFromTypeIndex(c.ytext, index, -1);
  for (const ch of text) {
    const absolute = Y.createAbsolutePositionFromRelativePosition(cursor, c.doc);
    index = absolute ? absolute.index : c.ytext.length;
    c.ytext.insert(index, ch);
    cursor = Y.createRelativePositionFromTypeIndex(c.ytext, index + ch.length, -1);
    if (delayMs > 0) await sleep(delayMs);
  }
}

const commands = {
  async connect(args) {
    const c = connect(args);
    const timeoutMs = args.timeoutMs ?? 30000;
    await until(() => c.provider.synced || c.closed, timeoutMs, `${args.client} to sync`);
    return describe(c);
  },
  async type({ jobs }) {
    // All jobs start in the same tick, so their first characters are truly concurrent.
    await Promise.all(
      jobs.map((job) => typeInto(client(job.client), job.at, job.text, job.delayMs ?? 3)),
    );
    return { texts: Object.fromEntries(jobs.map((j) => [j.client, client(j.client).ytext.toString()])) };
  },
  async converge({ clients: names, timeoutMs = 30000 }) {
    const list = names.map(client);
    const same = () => list.every((c) => c.ytext.toString() === list[0].ytext.toString());
    try {
      await until(same, timeoutMs, `${names.join(", ")} to converge`);
    } catch (error) {
      error.message += `: ${JSON.stringify(list.map((c) => c.ytext.toString()))}`;
      throw error;
    }
    return { text: list[0].ytext.toString() };
  },
  async waitFor({ client: name, contains = [], equals, timeoutMs = 30000 }) {
    const c = client(name);
    const ok = () => {
      const text = c.ytext.toString();
      return contains.every((part) => text.includes(part)) && (equals == null || text === equals);
    };
    await until(ok, timeoutMs, `${name}'s text (${c.ytext.toString()})`);
    return describe(c);
  },
  async waitPeers({ client: name, names = [], absent = [], timeoutMs = 30000 }) {
    const c = client(name);
    const t0 = Date.now();
    const ok = () => {
      const seen = peers(c);
      return names.every((n) => seen.includes(n)) && !absent.some((n) => seen.includes(n));
    };
    const want = [...names, ...absent.map((n) => `no ${n}`)].join(", ");
    await until(ok, timeoutMs, `${name} to see ${want} (sees ${peers(c).join(", ") || "nobody"})`);
    return { ...describe(c), waitedMs: Date.now() - t0 };
  },
  async waitStatus({ client: name, connected, synced, timeoutMs = 30000 }) {
    const c = client(name);
    const t0 = Date.now();
    await until(
      () =>
        c.provider.wsconnected === connected && (synced == null || c.provider.synced === synced),
      timeoutMs,
      `${name} to be ${connected ? "connected" : "disconnected"}`,
    );
    return { ...describe(c), waitedMs: Date.now() - t0 };
  },
  async sleep({ ms }) {
    await sleep(ms);
    return {};
  },
  async state({ client: name }) {
    return describe(client(name));
  },
  async drop({ client: name }) {
    const c = client(name);
    if (!c.provider.ws) throw new Error(`${name} has no socket`);
    c.provider.ws.terminate(); // no close frame: like a network cut
    return describe(c);
  },
  async sendRaw({ client: name, bytes }) {
    const c = client(name);
    if (!c.provider.ws) throw new Error(`${name} has no socket`);
    c.provider.ws.send(Uint8Array.from(bytes));
    return describe(c);
  },
  async waitClosed({ client: name, timeoutMs = 30000 }) {
    const c = client(name);
    await until(() => c.closed, timeoutMs, `${name} to be closed by the server`);
    return describe(c);
  },
  async destroy({ client: name }) {
    client(name).destroy();
    clients.delete(name);
    return {};
  },
  async quit() {
    for (const c of clients.values()) c.destroy();
    clients.clear();
    return {};
  },
};

async function run(command) {
  const { cmd, seq = null } = command;
  const handler = Object.hasOwn(commands, cmd) ? commands[cmd] : null;
  if (!handler) {
    emit({ seq, ok: false, error: `unknown command ${JSON.stringify(cmd)}` });
    return;
  }
  try {
    emit({ seq, ok: true, ...(await handler(command)) });
  } catch (error) {
    emit({ seq, ok: false, error: error?.message ?? String(error) });
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--help" || args[0] === "-h") {
    process.stdout.write("usage: node yjs_sync.mjs [--script commands.json] (see the header)\n");
    return 0;
  }
  if (args[0] === "--script") {
    const script = JSON.parse(await readFile(args[1], "utf8"));
    for (const command of script) await run(command);
    if (clients.size) await commands.quit();
    return 0;
  }
  // One command at a time, in order: a reply always follows its command.
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let command;
    try {
      command = JSON.parse(line);
    } catch {
      emit({ seq: null, ok: false, error: `not JSON: ${line.slice(0, 80)}` });
      continue;
    }
    await run(command);
    if (command.cmd === "quit") return 0;
  }
  await commands.quit(); // stdin closed: leave cleanly
  return 0;
}

process.exit(await main());
