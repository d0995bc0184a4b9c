"""`python -m streams_relay serve --host H --port P --data-dir D` (from bench/, or with bench/ on
PYTHONPATH): the service, its live notes on the streams; `python -m streams_relay worker`: the
worker, on MENTOR_SIDECAR_REDIS_URL and MENTOR_SIDECAR_DATABASE_URL."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        from streams_relay import worker

        return worker.main()
    if argv[:1] == ["serve"]:
        import sidecar.cli as cli
        from streams_relay.service import create_streams_app

        # The CLI's settings, logging, event loop and signals; only the app differs.
        cli.create_app = create_streams_app  # type: ignore[attr-defined]
        return cli.main(argv)
    print(__doc__, file=sys.stderr)
    return 2


raise SystemExit(main(sys.argv[1:]))
