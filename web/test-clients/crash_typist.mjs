#!/usr/bin/env node
// Two people typing without pause into one meeting's live notes, for bench/crash_harness.py,
// which kill -9s the service under them. The clients are the REAL npm yjs + y-websocket
// WebsocketProvider, built by the panel's own src/notes/connection.js (so the panel's reconnect
// and resync code is what gets tested), with `ws` as WebSocketPolyfill, `disableBc: true` (Node's
// BroadcastChannel would let the two sync without the server) and `params: {token}`.
//
// Each client types unique tokens, `${prefix}${n};` (the mentor `R0;`, `R1;` ..., the mentee
// `E0;` ...), one insert each, at its own cursor (kept right after its own last token, as an
// editor does), so the other person's inserts never split a token. A token typed while the
// socket is down is remembered as typed offline. Typing goes on whatever the connection does.
//
// Commands are JSON lines on stdin, {"cmd", "seq", ...}; each gets one JSON reply line
// {"seq", "ok": true, ...} or {"seq", "ok": false, "error"}; events ({"event": ...}) may come
// in between.
//
//   start   {url, room, rate, maxBackoffMs?, timeoutMs?,
//            clients: [{name, token, prefix, userName?, role?, url?}]}
//           connects every client (to its own `url` where given, else to `url`), waits until all are synced, then all start typing,
//           `rate` tokens per second each (evenly spaced; keep it under the server's
//           per-socket message limit, MENTOR_SIDECAR_WEBSOCKET_MESSAGES_PER_SECOND)
//   report  {}  at once, for each client: text, typed (tokens typed so far), offline (the tokens
//           typed while disconnected), connected, synced, syncs (connections that reached
//           synced), closed (a close the provider will not retry), reconnects
//   stop    {}  stop typing
//   waitSynced {timeoutMs?}  until every client is connected and synced
//   converge {timeoutMs?}    until every client is synced and all hold the same text
//   quit    {}

import { createInterface } from "node:readline";
import WebSocket from "ws";
import * as Y from "yjs";
import { connectNotes } from "../src/notes/connection.js";

const clients = [];
let typing = false;

const emit = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function open({ url, room, maxBackoffMs }, spec) {
  const providerOptions = { WebSocketPolyfill: WebSocket, disableBc: true, params: { token: spec.token } };
  // Unset, the panel's (y-websocket's) own backoff applies.
  if (maxBackoffMs != null) providerOptions.maxBackoffTime = maxBackoffMs;
  const user = {
    name: spec.userName ?? spec.name,
    role: spec.role ?? spec.name,
    color: "#0b6b63",
    colorLight: "#0b6b6333",
  };
  const c = {
    name: spec.name,
    prefix: spec.prefix,
    typed: 0,
    offline: [],
    closed: null,
    reconnects: -1, // the first `connected` is not a reconnect
    syncs: 0, // times the provider has become synced (once per connection)
    cursor: null,
    timer: null,
  };
  const notes = connectNotes(
    { meetingId: room, user, serverUrl: url, providerOptions },
    {
      onStatus: (status) => {
        if (status === "connected") c.reconnects += 1;
        emit({ event: "status", client: c.name, status });
      },
      onSynced: (synced) => {
        if (synced) c.syncs += 1;
      },
      onClosed: (event) => {
        c.closed = { code: event.code, reason: event.reason };
        emit({ event: "closed", client: c.name, ...c.closed });
      },
    },
  );
  Object.assign(c, notes);
  c.connect();
  return c;
}

/** One keystroke: the next token, at this client's cursor. */
function typeOne(c) {
  const token = `${c.prefix}${c.typed};`;
  let index = c.ytext.length;
  if (c.cursor !== null) {
    const absolute = Y.createAbsolutePositionFromRelativePosition(c.cursor, c.doc);
    if (absolute) index = absolute.index;
  }
  if (!c.provider.wsconnected) c.offline.push(token);
  c.ytext.insert(index, token); // y-websocket sends it from inside this call when connected
  c.typed += 1;
  // assoc -1: the cursor sticks to our own last character, so the other person's concurrent
  // insert at the same spot lands after it and never inside one of our tokens.
  c.cursor = Y.createRelativePositionFromTypeIndex(c.ytext, index + token.length, -1);
}

function describe(c) {
  return {
    client: c.name,
    text: c.ytext.toString(),
    typed: c.typed,
    offline: c.offline,
    connected: c.provider.wsconnected,
    synced: c.provider.synced,
    closed: c.closed,
    reconnects: Math.max(0, c.reconnects),
    syncs: c.syncs,
  };
}

const allSynced = () => clients.every((c) => c.provider.wsconnected && c.provider.synced);

const commands = {
  async start(args) {
    if (clients.length) throw new Error("already started");
    for (const spec of args.clients) clients.push(open({ ...args, url: spec.url ?? args.url }, spec));
    await until(allSynced, args.timeoutMs ?? 10000, "every client to sync");
    typing = true;
    const gapMs = 1000 / args.rate;
    for (const c of clients) {
      const tick = () => {
        if (!typing) return;
        typeOne(c);
        c.timer = setTimeout(tick, gapMs);
      };
      // Spread the clients' keystrokes so they do not all land in the same tick.
      c.timer = setTimeout(tick, Math.random() * gapMs);
    }
    return { clients: clients.map(describe) };
  },
  async report() {
    return { clients: clients.map(describe) };
  },
  async stop() {
    typing = false;
    for (const c of clients) clearTimeout(c.timer);
    return { clients: clients.map(describe) };
  },
  async waitSynced({ timeoutMs = 15000 }) {
    await until(allSynced, timeoutMs, "every client to be connected and synced");
    return { clients: clients.map(describe) };
  },
  async converge({ timeoutMs = 15000 }) {
    const same = () =>
      allSynced() && clients.every((c) => c.ytext.toString() === clients[0].ytext.toString());
    try {
      await until(same, timeoutMs, "the clients to converge");
    } catch (error) {
      error.message += `: ${JSON.stringify(clients.map(describe))}`;
      throw error;
    }
    return { clients: clients.map(describe) };
  },
  async quit() {
    typing = false;
    for (const c of clients) {
      clearTimeout(c.timer);
      c.destroy();
    }
    clients.length = 0;
    return {};
  },
};

async function main() {
  // Commands are read in order, but each runs as it comes: a `report` must not wait for a
  // `converge` (and typing never waits for either).
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
    const { cmd, seq = null } = command;
    const handler = Object.hasOwn(commands, cmd) ? commands[cmd] : null;
    if (!handler) {
      emit({ seq, ok: false, error: `unknown command ${JSON.stringify(cmd)}` });
      continue;
    }
    const reply = handler(command).then(
      (result) => emit({ seq, ok: true, ...result }),
      (error) => emit({ seq, ok: false, error: error?.message ?? String(error) }),
    );
    if (cmd === "quit") {
      await reply;
      return 0;
    }
  }
  await commands.quit(); // stdin closed: leave cleanly
  return 0;
}

process.exit(await main());
