#!/usr/bin/env node
// Hocuspocus as a user would run it for durable notes: @hocuspocus/server 3.4.4 with
// @hocuspocus/extension-sqlite on a file, every other setting at its default (store a document
// 2 s after its last change, at most 10 s after the first unstored one; unload a document, after
// storing it, once its last connection closes). Used by notes_bench.py and crash_harness.py.
//
//   node hocuspocus_server.mjs --port PORT --database FILE [--host 127.0.0.1]
//
// Prints one line, {"listening": PORT, "pid": PID}, once it accepts connections. SIGTERM stores
// every open document and exits 0 (Hocuspocus's own signal handler).

import { parseArgs } from 'node:util'
import { Server } from '@hocuspocus/server'
import { SQLite } from '@hocuspocus/extension-sqlite'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    database: { type: 'string' }
  }
})
if (!values.port || !values.database) {
  console.error('usage: hocuspocus_server.mjs --port PORT --database FILE [--host HOST]')
  process.exit(2)
}

const server = new Server({
  port: Number(values.port),
  address: values.host,
  quiet: true,
  extensions: [new SQLite({ database: values.database })]
})

await server.listen()
process.stdout.write(`${JSON.stringify({ listening: server.address.port, pid: process.pid })}\n`)
