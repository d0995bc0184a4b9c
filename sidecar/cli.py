"""`mentor-sidecar serve | demo | settings | migrate-data`: run the service, or run it with a
demo pair, list the settings, or copy an embedded install into PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from sidecar import migrate_data
from sidecar.app import create_app
from sidecar.demo import seed_demo
from sidecar.platforms.loader import activate, settings_models
from sidecar.settings import Settings, SettingsError, documented_settings
from sidecar.web.access_log import AccessLogger

log = logging.getLogger("sidecar")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "settings":
        for name, default, help_text in documented_settings(settings_models()):
            print(f"{name}  (default: {default})\n    {help_text}")
        return 0
    if args.command == "migrate-data":
        return migrate_data.main(args.to, args.data_dir, go=args.yes)
    try:
        settings = Settings.from_env(host=args.host, port=args.port, data_dir=args.data_dir)
        activate(settings)  # MENTOR_SIDECAR_PLATFORMS and each chosen platform's variables
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    demo = args.command == "demo"
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=loop_factory(settings)) as runner,
    ):
        runner.run(_serve(settings, demo=demo, as_json=demo and args.json))
    return 0


def loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when asked for and installed (None: asyncio's own loop).

    The live notes spend much of their CPU in the event loop (a socket read, a commit and a
    socket write per edit); on uvloop's loop, in C over libuv, an edit costs 10-15% less CPU
    (bench/README.md).
    """
    if settings.event_loop != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:  # Windows, or installed without it: the standard loop works the same
        log.warning("uvloop is not installed; running on asyncio's own event loop")
        return None
    return uvloop.new_event_loop


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentor-sidecar", description="A companion panel for mentoring over video calls."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the service")
    demo = commands.add_parser("demo", help="run the service with a demo mentorship seeded")
    demo.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    for command in (serve, demo):
        command.add_argument("--host", help="listen address (MENTOR_SIDECAR_HOST)")
        command.add_argument("--port", type=int, help="listen port (MENTOR_SIDECAR_PORT)")
        command.add_argument("--data-dir", type=Path, help="data folder (MENTOR_SIDECAR_DATA_DIR)")
    commands.add_parser("settings", help="list every setting with its default")
    migrate = commands.add_parser(
        "migrate-data",
        help="copy this install's SQLite data into an empty PostgreSQL database "
        "(a dry run with each table's rows unless --yes)",
    )
    migrate.add_argument("--to", required=True, metavar="postgresql://...", help="the target")
    migrate.add_argument("--yes", action="store_true", help="copy (without it: a dry run)")
    migrate.add_argument("--data-dir", type=Path, help="data folder (MENTOR_SIDECAR_DATA_DIR)")
    return parser


async def _serve(settings: Settings, *, demo: bool, as_json: bool) -> None:
    app = create_app(settings)
    runner = web.AppRunner(
        app, shutdown_timeout=settings.shutdown_timeout, access_log_class=AccessLogger
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    _freeze_startup_objects()
    loop = asyncio.get_running_loop()
    log.info(
        "listening on http://%s:%d (public URL %s; event loop: %s)",
        settings.host,
        settings.port,
        settings.base_url,
        type(loop).__module__.split(".")[0],
    )

    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if demo:
            seed = await seed_demo(app)
            if as_json:
                print(json.dumps(seed.as_json(settings.base_url)), flush=True)
            else:
                _print_demo(seed.as_json(settings.base_url))
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()


def _freeze_startup_objects() -> None:
    """Leave what start-up made (modules, classes, functions, settings: about 84,000 objects)
    out of the garbage collector's full passes: it lives as long as the process, and each full
    pass walked it again: at 400 meetings typing, the two full passes of a benchmark level took
    65 and 116 ms, and 51 and 40, then 42 and 29, with it frozen (bench/README.md, run I). What
    start-up left as garbage is collected first, as gc.freeze's documentation advises."""
    gc.collect()
    gc.freeze()


def _print_demo(seed: dict[str, object]) -> None:
    lines = ["", "Mentor Sidecar demo is running. Open each person's panel (one-time links):", ""]
    for role in ("mentor", "mentee"):
        person = seed[role]
        assert isinstance(person, dict)
        lines.append(f"  {role.capitalize():7} {person['name']} ({person['timezone']})")
        lines.append(f"          {person['panel_url']}")
    lines += ["", "Press Ctrl+C to stop.", ""]
    print("\n".join(lines), flush=True)
