"""Property-based fuzzing of the REST API from its own OpenAPI document, with schemathesis.

The service runs as a real process on a real SQLite file; schemathesis (its CLI, as a user would
run it) generates valid and invalid requests for every operation in /api/v1/openapi.json: its
examples, boundary values (coverage phase), random data (fuzzing phase) and chains of calls
following the document (stateful phase). The figures that matter: answers with a 5xx status and
crashed processes, both 0. FUZZ_EXAMPLES raises the number of cases per operation for a long run
(README, "Reliability").

Three runs, so that the fuzzer neither locks itself out nor erases what it is exploring:
1. the pair's real ids as path parameters (requests reach the handlers' logic, not just 404);
2. random path parameters;
3. the two self-destructive operations (revoke a token, erase a mentorship) alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import free_port, start_demo, stop

ST = shutil.which("st") or shutil.which("schemathesis")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# Operation ids (the endpoint functions' names) that revoke the fuzzer's token or erase the pair.
DESTRUCTIVE = ("revoke_token", "delete_mentorship")

pytestmark = pytest.mark.skipif(
    ST is None, reason="schemathesis is not installed (pip install .[test])"
)


@dataclass
class Service:
    process: subprocess.Popen[str]
    seed: dict[str, Any]
    port: int
    log: list[str] = field(default_factory=list)

    @property
    def schema_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/openapi.json"


@pytest.fixture
def service(tmp_path: Path, database_env: str | None) -> Iterator[Service]:
    # database_env: the demo process runs on PostgreSQL in the suite's PostgreSQL run.
    port = free_port()
    # Quotas off: the fuzzer should reach the handlers, not the sign-up limit (tested elsewhere).
    process, seed = start_demo(
        tmp_path / "data",
        port,
        env={
            "MENTOR_SIDECAR_SIGNUPS_PER_HOUR": "0",
            "MENTOR_SIDECAR_INVITES_PER_DAY": "0",
            "MENTOR_SIDECAR_UPLOADS_PER_HOUR": "0",
        },
    )
    running = Service(process, seed, port)

    def drain() -> None:  # a full stderr pipe would block the server
        assert process.stderr is not None
        for line in process.stderr:
            running.log.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    yield running
    if process.poll() is None:
        stop(process)


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str

    @property
    def cases(self) -> int:
        found = re.search(r"(\d+) generated", self.output)
        return int(found.group(1)) if found else 0


# Schemathesis's worker threads: CPython 3.11 races on the AST constructor's recursion counter
# when threads parse source at once (hypothesis describes lambdas with ast.parse), failing the
# fuzzer itself with "SystemError: AST constructor recursion depth mismatch" now and then under
# load; one worker there, two where the interpreter is past it.
WORKERS = "1" if sys.version_info < (3, 12) else "2"


def fuzz(service: Service, tmp_path: Path, name: str, *args: str, config: str = "") -> Outcome:
    assert ST is not None
    config_file = tmp_path / f"{name}.toml"
    config_file.write_text(config)
    token = service.seed["mentor"]["token"]
    result = subprocess.run(
        [
            ST,
            "--config-file",
            str(config_file),
            "run",
            service.schema_url,
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "20261124",
            "--workers",
            WORKERS,
            "--no-color",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    print(f"--- schemathesis run {name}: {Outcome(result.returncode, output).cases} cases")
    print("\n".join(output.splitlines()[-25:]))
    return Outcome(result.returncode, output)


ACCESS_STATUS = re.compile(r'aiohttp\.access: .*" (\d{3}) ')


def server_errors(service: Service) -> list[str]:
    """5xx answers in the access log, and logged errors other than aiohttp refusing a malformed
    HTTP message (its parser answers those 400 itself and logs the parse error)."""
    text = "".join(service.log)
    problems = [m.group(0) for m in ACCESS_STATUS.finditer(text) if m.group(1).startswith("5")]
    for block in re.split(r"(?m)^(?=\d{4}-\d\d-\d\d )", text):
        if " ERROR " in block and "aiohttp.http_exceptions.Bad" not in block:
            problems.append(block)
    return problems


def test_the_api_never_answers_5xx_nor_crashes(service: Service, tmp_path: Path) -> None:
    seed = service.seed
    real_ids = (
        "[parameters]\n"
        f'"path.mentorship_id" = "{seed["mentorship_id"]}"\n'
        f'"path.meeting_id" = "{seed["meeting_id"]}"\n'
        f'"path.person_id" = "{seed["mentee"]["id"]}"\n'
    )
    skip_destructive = [f"--exclude-operation-id={name}" for name in DESTRUCTIVE]
    outcomes = [
        fuzz(service, tmp_path, "real-ids", *skip_destructive, config=real_ids),
        fuzz(service, tmp_path, "random-ids", *skip_destructive),
        fuzz(
            service,
            tmp_path,
            "destructive",
            *(f"--include-operation-id={name}" for name in DESTRUCTIVE),
        ),
    ]
    total = sum(o.cases for o in outcomes)
    print(f"fuzzed {total} requests; server process alive: {service.process.poll() is None}")
    for outcome in outcomes:
        assert outcome.cases > 0, outcome.output[-3000:]
        assert outcome.returncode == 0, outcome.output[-6000:] + "".join(server_errors(service))
    assert service.process.poll() is None, "the service crashed"
    assert server_errors(service) == []
