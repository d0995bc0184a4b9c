#!/usr/bin/env node
// One load-generator process for the live-notes benchmark (driven by notes_bench.py).
//
// It opens, for each meeting of its config file, two real clients in this one process, so one
// clock times each keystroke from the moment one client inserts it to the moment the other
// client's Y.Text observer sees it. The clients are yjs 13 documents with `ws` as the WebSocket
// and, by `protocol`, either y-websocket 3.1's WebsocketProvider ("y-websocket": our server and
// @y/websocket-server) or @hocuspocus/provider 3.4.4's HocuspocusProvider ("hocuspocus": its
// messages name their document, and it authenticates first), each with its own socket.
//
//   node loadgen.mjs CONFIG.json
//
// CONFIG: {"base": "ws://127.0.0.1:PORT/ws/notes", "protocol": "y-websocket" | "hocuspocus",
//          "bases": [baseA, baseB] (optional, y-websocket: each meeting's first client on
//          baseA, its second on baseB: bench/cluster_bench.py's two instances),
//          "rate": 5, "meetings": [{"room": "...", "tokens": ["a", "b"] | null}], "batch": 25,
//          "connectTimeoutMs": 60000, "maxSeconds": 180, "seed": 1, "resultPath": "result.json",
//          "holdOpen": false, "idleOnly": false}
//
// Protocol with the harness, one line each:
//   stdout  READY {"clients": n, "synced": n, "failed": n, "connect_ms": t}
//   stdin   GO {"measure_from": epochMs, "measure_to": epochMs, "drain_ms": t}
//   stdout  RESULT {...}   (or RESULT {"file": resultPath} holding it; then the process exits,
//                          unless holdOpen: then every client stays connected, nobody typing,
//                          until QUIT on stdin or stdin closes, so the harness can measure idle
//                          open meetings)
// idleOnly: no GO and no typing; after READY every client stays connected and synced until QUIT
// (then `IDLE {summary}` on stdout, and the process exits) or stdin closes: the harness measures
// what idle open meetings cost the server.
// Every client edits from GO until measure_to; only keystrokes sent inside
// [measure_from, measure_to) are counted. The process exits after maxSeconds whatever happens.

import { readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { performance, monitorEventLoopDelay } from 'node:perf_hooks'
import WebSocket from 'ws'
import { HocuspocusWebSocket } from './hocuspocus_websocket.mjs'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { HocuspocusProvider } from '@hocuspocus/provider'

process.setMaxListeners(0) // y-websocket adds an 'exit' listener per provider

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const rate = config.rate ?? 5 // edits per second per client
const meanGapMs = 1000 / rate
const batch = config.batch ?? 25 // meetings connected at a time
const connectTimeoutMs = config.connectTimeoutMs ?? 60000
const maxSeconds = config.maxSeconds ?? 180
const hocuspocus = config.protocol === 'hocuspocus'

// Deterministic pseudo-random numbers (mulberry32), so runs are repeatable.
let seed = (config.seed ?? 1) >>> 0
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const epochNow = () => performance.timeOrigin + performance.now()

const state = {
  phase: 'connecting', // connecting -> ready -> editing -> draining -> done
  measureFrom: Infinity,
  measureTo: Infinity,
  latencies: [], // ms, keystrokes sent inside the window, in arrival order
  sent: 0, // keystrokes sent inside the window
  sentTotal: 0, // all keystrokes, warm-up included
  received: 0, // window keystrokes seen by the peer
  late: 0, // window keystrokes seen after the drain ended (counted lost)
  duplicates: 0,
  unknown: 0,
  disconnects: 0,
  closeCodes: {},
  outstanding: 0 // window keystrokes not yet seen by the peer
}

const clients = []

class Client {
  constructor (meeting, index, tag) {
    this.tag = tag // 'a' or 'b': whose keystrokes a marker is
    this.seq = 0
    this.pending = new Map() // seq -> [send time (perf ms), counted in window]
    this.peer = null
    this.timer = null
    this.synced = false
    this.doc = new Y.Doc()
    this.text = this.doc.getText('notes')
    const token = meeting.tokens ? meeting.tokens[index] : null
    if (hocuspocus) {
      // One socket per client, as y-websocket has; reconnect backoff capped as below.
      this.provider = new HocuspocusProvider({
        url: config.base,
        name: meeting.room,
        document: this.doc,
        WebSocketPolyfill: HocuspocusWebSocket,
        maxDelay: 1000
      })
      this.provider.on('synced', ({ state: isSynced }) => { if (isSynced) this.synced = true })
    } else {
      const base = config.bases ? config.bases[index] : config.base
      this.provider = new WebsocketProvider(base, meeting.room, this.doc, {
        WebSocketPolyfill: WebSocket,
        disableBc: true,
        params: token ? { token } : {},
        maxBackoffTime: 1000
      })
      this.provider.on('sync', (isSynced) => { if (isSynced) this.synced = true })
    }
    this.provider.awareness.setLocalStateField('user', {
      name: `bench ${meeting.room.slice(-6)} ${tag}`,
      color: tag === 'a' ? '#30bced' : '#ee6352'
    })
    this.provider.on('status', ({ status }) => {
      if (status === 'disconnected' && state.phase !== 'connecting' && state.phase !== 'done') {
        state.disconnects++
      }
    })
    this.provider.on(hocuspocus ? 'close' : 'connection-close', (payload) => {
      if (state.phase === 'done') return
      const event = hocuspocus ? payload?.event : payload
      const code = event ? String(event.code) : 'none'
      state.closeCodes[code] = (state.closeCodes[code] || 0) + 1
    })
    this.text.observe((event) => {
      if (event.transaction.local) return
      for (const op of event.delta) {
        if (typeof op.insert === 'string') this.peer.arrived(op.insert)
      }
    })
  }

  // A keystroke: a short unique marker at a random position of the shared text.
  type () {
    const seq = ++this.seq
    const marker = `[${this.tag}${seq.toString(36)}]`
    const at = Math.floor(random() * (this.text.length + 1))
    const t = performance.now()
    const inWindow = performance.timeOrigin + t >= state.measureFrom &&
      performance.timeOrigin + t < state.measureTo
    this.pending.set(seq, [t, inWindow])
    if (inWindow) {
      state.sent++
      state.outstanding++
    }
    state.sentTotal++
    this.text.insert(at, marker) // y-websocket sends the update from inside this call
  }

  // Called on the sender when its peer's text shows inserted content.
  arrived (inserted) {
    const now = performance.now()
    const re = /\[([ab])([0-9a-z]+)\]/g
    let m
    while ((m = re.exec(inserted)) !== null) {
      if (m[1] !== this.tag) continue
      const seq = parseInt(m[2], 36)
      const entry = this.pending.get(seq)
      if (entry === undefined) {
        if (seq <= this.seq) state.duplicates++
        else state.unknown++
        continue
      }
      this.pending.delete(seq)
      if (entry[1]) {
        if (state.phase === 'done') {
          state.late++
        } else {
          state.received++
          state.outstanding--
          state.latencies.push(Math.round((now - entry[0]) * 1000) / 1000)
        }
      }
    }
  }

  scheduleNext () {
    const gap = -Math.log(1 - random()) * meanGapMs // Poisson arrivals, mean `meanGapMs`
    this.timer = setTimeout(() => {
      if (state.phase !== 'editing') return
      this.type()
      this.scheduleNext()
    }, gap)
  }

  stop () {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  connected () {
    return hocuspocus
      ? this.provider.configuration.websocketProvider.status === 'connected'
      : this.provider.wsconnected
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const out = (kind, payload) => {
  if (kind === 'RESULT' && config.resultPath) {
    // The samples can be megabytes: a file is written whole before the process exits.
    writeFileSync(config.resultPath, JSON.stringify(payload))
    payload = { file: config.resultPath }
  }
  process.stdout.write(`${kind} ${JSON.stringify(payload)}\n`)
}

const hardStop = setTimeout(() => {
  out('RESULT', { error: `loadgen gave up after ${maxSeconds} s`, ...summary() })
  process.exit(2)
}, maxSeconds * 1000)

function summary () {
  return {
    pid: process.pid,
    meetings: config.meetings.length,
    clients: clients.length,
    sent: state.sent,
    sent_total: state.sentTotal,
    received: state.received,
    lost: state.sent - state.received,
    late: state.late,
    duplicates: state.duplicates,
    unknown: state.unknown,
    disconnects: state.disconnects,
    close_codes: state.closeCodes
  }
}

async function connectAll () {
  const started = performance.now()
  const deadline = started + connectTimeoutMs // for all clients together
  for (let i = 0; i < config.meetings.length; i += batch) {
    const group = []
    for (const meeting of config.meetings.slice(i, i + batch)) {
      const a = new Client(meeting, 0, 'a')
      const b = new Client(meeting, 1, 'b')
      a.peer = b
      b.peer = a
      group.push(a, b)
      clients.push(a, b)
    }
    while (group.some((c) => !c.synced) && performance.now() < deadline) await sleep(5)
  }
  // Let both sides see each other's presence and the initial text before the clock starts.
  await sleep(300)
  const synced = clients.filter((c) => c.synced).length
  const unsynced = clients.filter((c) => !c.synced)
  out('READY', {
    clients: clients.length,
    synced,
    failed: clients.length - synced,
    unsynced_connected: unsynced.filter((c) => c.connected()).length,
    close_codes: state.closeCodes,
    connect_ms: Math.round(performance.now() - started)
  })
}

function quit (code) {
  for (const c of clients) c.provider.destroy()
  clearTimeout(hardStop)
  setTimeout(() => process.exit(code), 50)
}

function waitForGo () {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin })
    rl.on('line', (line) => {
      if (line.startsWith('GO ')) resolve(JSON.parse(line.slice(3)))
      else if (line.trim() === 'QUIT') {
        if (config.idleOnly) out('IDLE', summary())
        quit(0)
      }
    })
    rl.on('close', () => quit(state.phase === 'done' || config.idleOnly ? 0 : 3))
  })
}

async function run () {
  await connectAll()
  state.phase = 'ready'
  if (config.idleOnly) {
    state.phase = 'idle' // disconnects from now on are counted
    await waitForGo() // QUIT (or stdin closing) ends the process; nobody types
    return
  }
  const go = await waitForGo()
  state.measureFrom = go.measure_from
  state.measureTo = go.measure_to
  const drainMs = go.drain_ms ?? 3000

  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  state.phase = 'editing'
  for (const c of clients) c.scheduleNext()

  await sleep(Math.max(0, state.measureFrom - epochNow()))
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  loopDelay.enable()
  await sleep(Math.max(0, state.measureTo - epochNow()))
  const cpu = process.cpuUsage(cpu0)
  const wallMs = performance.now() - wall0
  loopDelay.disable()

  state.phase = 'draining'
  for (const c of clients) c.stop()
  const drainEnd = performance.now() + drainMs
  while (state.outstanding > 0 && performance.now() < drainEnd) await sleep(10)
  state.phase = 'done'
  await sleep(20) // anything arriving now is counted late

  out('RESULT', {
    ...summary(),
    window_ms: Math.round(wallMs),
    cpu_user_ms: cpu.user / 1000,
    cpu_system_ms: cpu.system / 1000,
    loop_delay_p99_ms: loopDelay.percentile(99) / 1e6,
    loop_delay_max_ms: loopDelay.max / 1e6,
    latencies_ms: state.latencies
  })
  if (!config.holdOpen) quit(0) // else the meetings stay open, idle, until QUIT
}

run().catch((err) => {
  out('RESULT', { error: String(err && err.stack ? err.stack : err), ...summary() })
  process.exit(1)
})
