"""A Node program driven over stdin/stdout: one JSON command per line, one JSON reply each.

Commands are `{"cmd": ..., "seq": n, ...}`; a reply carries the same `seq` and `ok`; a line with
`event` and no pending `seq` is kept in `events`. Used by the npm-client tests
(web/test-clients/yjs_sync.mjs) and the crash harness (web/test-clients/crash_typist.mjs).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from pathlib import Path
from typing import IO, Any

Reply = dict[str, Any]


class NodeProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[Reply] = []
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._seq = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @staticmethod
    async def spawn(
        node: str, script: Path, *, cwd: Path, stderr: int | IO[bytes], limit: int = 2**16
    ) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            node,
            str(script),
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            limit=limit,
        )

    async def exited(self) -> Exception:
        """What waiting callers get when the program ends before answering them."""
        return RuntimeError("the node program exited")

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            message = json.loads(raw)
            future = self._pending.pop(message.get("seq") or 0, None)
            if future is not None and not future.done():
                future.set_result(message)
            elif "event" in message:
                self.events.append(message)
        for future in self._pending.values():  # the process ended: fail whoever waits
            if not future.done():
                future.set_exception(await self.exited())

    def start(self, cmd: str, **args: Any) -> asyncio.Future[Reply]:
        """Send a command; the future is its reply (which may say `ok: false`)."""
        assert self.process.stdin is not None
        seq = next(self._seq)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[seq] = future
        self.process.stdin.write((json.dumps({"cmd": cmd, "seq": seq, **args}) + "\n").encode())
        return future

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.start("quit"), 5)
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
