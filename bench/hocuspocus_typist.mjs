#!/usr/bin/env node
// Two people typing without pause into one Hocuspocus document, for bench/crash_harness.py's
// trials against Hocuspocus (bench/hocuspocus_server.mjs). The same commands, replies and typing
// as web/test-clients/crash_typist.mjs (see there), with @hocuspocus/provider 3.4.4's
// HocuspocusProvider as each client (`ws` as WebSocketPolyfill, one socket per client) instead of
// the panel's y-websocket connection, plus one command:
//
//   read {url, room, timeoutMs?}  a fresh provider syncs the document and returns its text
//
// Each client types unique tokens, `${prefix}${n};`, one insert each at its own cursor. The
// provider reconnects by itself (its backoff: 1 s doubling, capped at `maxBackoffMs`, default
// 2,500 ms as y-websocket's, so both harness runs give the clients the same time to come back).

import { createInterface } from "node:readline";
import { HocuspocusWebSocket } from "./hocuspocus_websocket.mjs";
import * as Y from "yjs";
import { HocuspocusProvider } from "@hocuspocus/provider";

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

function provider(url, room, doc, maxBackoffMs) {
  return new HocuspocusProvider({
    url,
    name: room,
    document: doc,
    WebSocketPolyfill: HocuspocusWebSocket,
    maxDelay: maxBackoffMs ?? 2500,
  });
}

const isConnected = (p) => p.configuration.websocketProvider.status === "connected";

function open({ url, room, maxBackoffMs }, spec) {
  const doc = new Y.Doc();
  const c = {
    name: spec.name,
    prefix: spec.prefix,
    doc,
    ytext: doc.getText("notes"),
    typed: 0,
    offline: [],
    closed: null,
    reconnects: -1, // the first `connected` is not a reconnect
    syncs: 0, // times the provider has become synced (once per connection)
    cursor: null,
    timer: null,
  };
  c.provider = provider(url, room, doc, maxBackoffMs);
  c.provider.setAwarenessField("user", { name: spec.userName ?? spec.name, color: "#0b6b63" });
  c.provider.on("status", ({ status }) => {
    if (status === "connected") c.reconnects += 1;
    emit({ event: "status", client: c.name, status });
  });
  c.provider.on("synced", ({ state }) => {
    if (state) c.syncs += 1;
  });
  c.provider.on("authenticationFailed", ({ reason }) => {
    c.closed = { code: null, reason: `authentication failed: ${reason}` };
    emit({ event: "closed", client: c.name, ...c.closed });
  });
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
  if (!isConnected(c.provider)) c.offline.push(token);
  c.ytext.insert(index, token); // the provider sends it from inside this call when connected
  c.typed += 1;
  c.cursor = Y.createRelativePositionFromTypeIndex(c.ytext, index + token.length, -1);
}

function describe(c) {
  return {
    client: c.name,
    text: c.ytext.toString(),
    typed: c.typed,
    offline: c.offline,
    connected: isConnected(c.provider),
    synced: c.provider.synced,
    closed: c.closed,
    reconnects: Math.max(0, c.reconnects),
    syncs: c.syncs,
  };
}

const allSynced = () => clients.every((c) => isConnected(c.provider) && c.provider.synced);

const commands = {
  async start(args) {
    if (clients.length) throw new Error("already started");
    for (const spec of args.clients) clients.push(open(args, spec));
    await until(allSynced, args.timeoutMs ?? 10000, "every client to sync");
    typing = true;
    const gapMs = 1000 / args.rate;
    for (const c of clients) {
      const tick = () => {
        if (!typing) return;
        typeOne(c);
        c.timer = setTimeout(tick, gapMs);
      };
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
  async read({ url, room, timeoutMs = 10000 }) {
    const doc = new Y.Doc();
    const fresh = provider(url, room, doc);
    try {
      await until(() => fresh.synced, timeoutMs, "a fresh client to sync");
      return { text: doc.getText("notes").toString() };
    } finally {
      fresh.destroy();
    }
  },
  async quit() {
    typing = false;
    for (const c of clients) {
      clearTimeout(c.timer);
      c.provider.destroy();
    }
    clients.length = 0;
    return {};
  },
};

async function main() {
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
  await commands.quit();
  return 0;
}

process.exit(await main());
