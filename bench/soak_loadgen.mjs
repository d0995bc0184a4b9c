#!/usr/bin/env node
// One load-generator process for the soak (driven by soak.py); modelled on loadgen.mjs, which
// measures one window, whereas a soak needs its figures slice by slice for minutes on end.
//
// For each meeting of its config it opens two real y-websocket clients (yjs 13 + y-websocket
// 3.1, `ws` as the WebSocket, `disableBc: true`, `params: {token}`) in this one process, so one
// clock times each keystroke from one client's insert to the other client's Y.Text observer.
//
//   node soak_loadgen.mjs CONFIG.json
//
// CONFIG: {"base": "ws://127.0.0.1:PORT/ws/notes", "rate": 5, "meetings": [{"room": "...",
//          "tokens": ["a", "b"]}], "batch": 25, "connectTimeoutMs": 60000, "maxSeconds": 900,
//          "overdueMs": 5000, "jump": 0.02, "seed": 1}
//
// Protocol with the harness, one line each way:
//   stdout READY {"clients", "synced", "failed", "connect_ms", "close_codes"}
//   stdin  GO                     everyone starts typing
//   stdin  SLICE                  -> stdout SLICE {...}: keystrokes typed and arrived since the
//                                    last SLICE, their latencies as a histogram (1 % buckets),
//                                    and running totals (pending, overdue, disconnects)
//   stdin  STOP {"drain_ms"}      -> stop typing, wait (at most drain_ms) for what is on its way,
//                                    compare each pair's texts: STOPPED {... "lost", "diverged"}
//   stdin  CLOSE                  -> destroy every provider: CLOSED {}, then the process exits
// The process exits after maxSeconds, or when stdin closes, whatever happens.
//
// Typing is a person's: each keystroke is a short unique marker such as `[a1z]` (so its arrival
// can be timed) inserted at the client's own cursor, which stays after its last marker (Yjs
// merges such runs into one item, as it does real typing); with probability `jump` the cursor
// first moves to a random place, as when someone starts a new point elsewhere.

import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { performance, monitorEventLoopDelay } from 'node:perf_hooks'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

process.setMaxListeners(0) // y-websocket adds an 'exit' listener per provider

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const meanGapMs = 1000 / (config.rate ?? 5)
const batch = config.batch ?? 25
const connectTimeoutMs = config.connectTimeoutMs ?? 60000
const overdueMs = config.overdueMs ?? 5000
const jump = config.jump ?? 0.02

// Deterministic pseudo-random numbers (mulberry32), so runs are repeatable.
let seed = (config.seed ?? 1) >>> 0
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

// Latency histogram: bucket i holds (0.01 * 1.01^i, 0.01 * 1.01^(i+1)] ms; mergeable across
// processes, 1 % resolution, a few hundred buckets at most.
const LOG_STEP = Math.log(1.01)
const bucket = (ms) => (ms <= 0.01 ? 0 : Math.floor(Math.log(ms / 0.01) / LOG_STEP))

const state = {
  phase: 'connecting', // connecting -> ready -> typing -> stopping -> closed
  typed: 0, // in this slice
  arrived: 0,
  hist: new Map(),
  maxMs: 0,
  typedTotal: 0,
  arrivedTotal: 0,
  duplicates: 0,
  disconnects: 0,
  closeCodes: {}
}
const clients = []

class Client {
  constructor (meeting, index, tag) {
    this.tag = tag // 'a' or 'b': whose keystrokes a marker is
    this.seq = 0
    this.pending = new Map() // seq -> send time (performance.now())
    this.peer = null
    this.timer = null
    this.cursor = null
    this.synced = false
    this.doc = new Y.Doc()
    this.text = this.doc.getText('notes')
    this.provider = new WebsocketProvider(config.base, meeting.room, this.doc, {
      WebSocketPolyfill: WebSocket,
      disableBc: true,
      params: { token: meeting.tokens[index] }
    })
    this.provider.awareness.setLocalStateField('user', {
      name: `soak ${meeting.room.slice(-6)} ${tag}`,
      color: tag === 'a' ? '#30bced' : '#ee6352'
    })
    this.provider.on('sync', (isSynced) => { if (isSynced) this.synced = true })
    this.provider.on('status', ({ status }) => {
      if (status === 'disconnected' && (state.phase === 'ready' || state.phase === 'typing')) {
        state.disconnects++
      }
    })
    this.provider.on('connection-close', (event) => {
      if (state.phase === 'closed') return
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

  type () {
    const seq = ++this.seq
    const marker = `[${this.tag}${seq.toString(36)}]`
    let at = this.text.length
    if (this.cursor !== null && random() >= jump) {
      const absolute = Y.createAbsolutePositionFromRelativePosition(this.cursor, this.doc)
      if (absolute) at = absolute.index
    } else if (this.cursor !== null) {
      // A new point elsewhere: only between two markers, so none is ever split.
      const text = this.text.toString()
      const probe = Math.floor(random() * (text.length + 1))
      const close = text.indexOf(']', probe)
      at = close < 0 ? text.length : close + 1
    }
    this.pending.set(seq, performance.now())
    state.typed++
    state.typedTotal++
    this.text.insert(at, marker) // y-websocket sends the update from inside this call
    // assoc -1: the cursor sticks to our own last character, as an editor's does.
    this.cursor = Y.createRelativePositionFromTypeIndex(this.text, at + marker.length, -1)
  }

  // Called on the sender when its peer's text shows inserted content.
  arrived (inserted) {
    const now = performance.now()
    const re = /\[([ab])([0-9a-z]+)\]/g
    let m
    while ((m = re.exec(inserted)) !== null) {
      if (m[1] !== this.tag) continue
      const seq = parseInt(m[2], 36)
      const sentAt = this.pending.get(seq)
      if (sentAt === undefined) {
        state.duplicates++
        continue
      }
      this.pending.delete(seq)
      const ms = now - sentAt
      state.arrived++
      state.arrivedTotal++
      const b = bucket(ms)
      state.hist.set(b, (state.hist.get(b) || 0) + 1)
      if (ms > state.maxMs) state.maxMs = ms
    }
  }

  scheduleNext () {
    const gap = -Math.log(1 - random()) * meanGapMs // Poisson arrivals
    this.timer = setTimeout(() => {
      if (state.phase !== 'typing') return
      this.type()
      this.scheduleNext()
    }, gap)
  }

  stop () {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const out = (kind, payload) => process.stdout.write(`${kind} ${JSON.stringify(payload)}\n`)

setTimeout(() => {
  process.stderr.write(`soak_loadgen: gave up after ${config.maxSeconds} s\n`)
  process.exit(2)
}, (config.maxSeconds ?? 900) * 1000).unref()

function pendingFigures () {
  const now = performance.now()
  let pending = 0
  let overdue = 0
  let oldestMs = 0
  for (const c of clients) {
    for (const sentAt of c.pending.values()) {
      pending++
      const age = now - sentAt
      if (age > overdueMs) overdue++
      if (age > oldestMs) oldestMs = age
    }
  }
  return { pending, overdue, oldest_pending_ms: Math.round(oldestMs) }
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 })

function slice () {
  const figures = {
    typed: state.typed,
    arrived: state.arrived,
    hist: Object.fromEntries(state.hist),
    max_ms: state.maxMs,
    typed_total: state.typedTotal,
    arrived_total: state.arrivedTotal,
    duplicates: state.duplicates,
    disconnects: state.disconnects,
    close_codes: state.closeCodes,
    loop_delay_p99_ms: loopDelay.count ? loopDelay.percentile(99) / 1e6 : 0,
    ...pendingFigures()
  }
  state.typed = 0
  state.arrived = 0
  state.hist = new Map()
  state.maxMs = 0
  loopDelay.reset()
  return figures
}

async function connectAll () {
  const started = performance.now()
  const deadline = started + connectTimeoutMs
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
  await sleep(300) // presence and the first line reach both sides before the clock starts
  const synced = clients.filter((c) => c.synced).length
  out('READY', {
    clients: clients.length,
    synced,
    failed: clients.length - synced,
    close_codes: state.closeCodes,
    connect_ms: Math.round(performance.now() - started)
  })
}

async function stop (drainMs) {
  state.phase = 'stopping'
  for (const c of clients) c.stop()
  const end = performance.now() + drainMs
  while (pendingFigures().pending > 0 && performance.now() < end) await sleep(20)
  // Once nothing is on its way, both clients of a meeting must hold the same text.
  let diverged = 0
  for (let i = 0; i < clients.length; i += 2) {
    if (clients[i].text.toString() !== clients[i + 1].text.toString()) diverged++
  }
  const last = slice()
  return {
    ...last,
    lost: last.pending,
    diverged,
    text_chars: clients.reduce((n, c) => n + c.text.length, 0) / 2
  }
}

async function main () {
  await connectAll()
  state.phase = 'ready'
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    const [cmd, rest] = [line.split(' ', 1)[0], line.slice(line.indexOf(' ') + 1)]
    if (cmd === 'GO') {
      state.phase = 'typing'
      slice() // the slices start now
      loopDelay.enable()
      for (const c of clients) c.scheduleNext()
    } else if (cmd === 'SLICE') {
      out('SLICE', slice())
    } else if (cmd === 'STOP') {
      const { drain_ms: drainMs = 10000 } = rest && rest !== 'STOP' ? JSON.parse(rest) : {}
      out('STOPPED', await stop(drainMs))
    } else if (cmd === 'CLOSE') {
      state.phase = 'closed'
      for (const c of clients) c.provider.destroy()
      await sleep(200) // the close frames go out
      out('CLOSED', {})
      return 0
    }
  }
  return 3 // stdin closed without CLOSE: the harness is gone
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak_loadgen: ${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  }
)
