"""The shipped deployment files: the Dockerfile, deploy/compose.yaml and deploy/haproxy.cfg.

No Docker engine runs here (only its client), so the image is not built and Compose is not
started. What can be checked without one is: the image's front-end stage replayed in a folder
(its COPY lines, then its build, with web/node_modules in place of its `npm ci`: the build
must find everything it reads among what the stage copies); the Compose file's wiring (every
setting it passes exists, the URLs name its own services, HAProxy's backends are the instances
on the port the image listens on); and the HAProxy configuration checked by Debian's HAProxy
itself (`haproxy -c`), as scripts/cluster runs it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from sidecar.platforms.loader import settings_models
from sidecar.settings import all_setting_fields

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "deploy" / "compose.yaml"
HAPROXY_CONFIG = REPO / "deploy" / "haproxy.cfg"


def stage(name: str) -> list[tuple[str, str]]:
    """The (instruction, arguments) of one stage of the Dockerfile ("" for an unnamed one, the
    last: the Python image), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    steps: list[tuple[str, str]] = []
    current: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            current = arguments.split(" AS ")[-1].strip() if " AS " in arguments else ""
            continue
        if current == name:
            steps.append((instruction.upper(), arguments.strip()))
    assert steps, f"no stage {name!r} in the Dockerfile"
    return steps


def test_the_image_front_end_stage_builds_from_only_what_it_copies(tmp_path: Path) -> None:
    node_modules = REPO / "web" / "node_modules"
    if shutil.which("node") is None or not (node_modules / "esbuild").exists():
        pytest.skip("needs node and web/node_modules (scripts/test runs npm ci in web/)")
    root = tmp_path / "image"

    def inside(path: str, workdir: Path) -> Path:
        return root / path.lstrip("/") if path.startswith("/") else workdir / path

    workdir = root
    build_commands: list[str] = []
    for instruction, arguments in stage("frontend"):
        if instruction == "WORKDIR":
            workdir = inside(arguments, workdir)
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, destination = shlex.split(arguments)
            target = inside(destination, workdir)
            for source in sources:
                origin = REPO / source
                if origin.is_dir():
                    shutil.copytree(
                        origin,
                        target,
                        dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("node_modules", "__pycache__"),
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif instruction == "RUN":
            if arguments.startswith("npm ci"):  # no registry in a test: the installed packages
                (workdir / "node_modules").symlink_to(node_modules)
            else:
                build_commands.append(arguments.replace(" /src/", f" {root}/src/"))
    assert build_commands, "the stage runs the build"
    for command in build_commands:
        done = subprocess.run(
            command, shell=True, cwd=workdir, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    built = root / "src"
    # What the image's second stage copies from this one, and what each package serves.
    assert list((built / "sidecar" / "static").glob("*.js")), "the panel's bundles"
    assert (built / "zoom_app" / "static" / "pages.js").exists(), "Zoom's page scripts"
    assert (built / "jitsi_app" / "static" / "call.js.gz").exists(), "Jitsi's, with gzip twins"
    copied_from_stage = [a for i, a in stage("") if i == "COPY" and "--from=frontend" in a]
    for arguments in copied_from_stage:
        source = shlex.split(arguments)[1]
        assert inside(source, root).is_dir(), f"the stage has {source} for {arguments!r}"


def test_the_compose_file_wires_its_own_services() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"postgres", "redis", "haproxy"} <= set(services)
    instances = [name for name, service in services.items() if service.get("build")]
    assert len(instances) >= 2, "several instances"
    known = {name for name, _ in all_setting_fields(settings_models())}
    exposed = re.search(r"^EXPOSE (\d+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert exposed is not None
    for name in instances:
        environment = services[name]["environment"]
        unknown = {key for key in environment if key.startswith("MENTOR_SIDECAR_")} - known
        assert not unknown, f"{name} passes settings that do not exist: {unknown}"
        database = urlsplit(environment["MENTOR_SIDECAR_DATABASE_URL"])
        assert database.scheme == "postgresql" and database.hostname in services
        redis = urlsplit(environment["MENTOR_SIDECAR_REDIS_URL"])
        assert redis.scheme == "redis" and redis.hostname in services
        assert set(services[name]["depends_on"]) == {database.hostname, redis.hostname}
    proxy = services["haproxy"]
    backends = {
        value for key, value in proxy["environment"].items() if key.startswith("SIDECAR_INSTANCE_")
    }
    assert backends == {f"{name}:{exposed.group(1)}" for name in instances}
    assert set(proxy["depends_on"]) == set(instances)
    mounted = {volume.split(":")[0] for volume in proxy["volumes"]}
    assert "./haproxy.cfg" in mounted and (COMPOSE.parent / "haproxy.cfg").exists()
    # Every variable the configuration reads is given.
    wanted = set(re.findall(r"\$\{(\w+)\}", HAPROXY_CONFIG.read_text()))
    assert wanted <= set(proxy["environment"]), wanted - set(proxy["environment"])


def test_haproxy_accepts_the_shipped_configuration() -> None:
    haproxy = shutil.which("haproxy", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if haproxy is None:
        pytest.skip("needs Debian's haproxy (scripts/test installs it)")
    compose = yaml.safe_load(COMPOSE.read_text())
    environment = dict(os.environ)
    for key, value in compose["services"]["haproxy"]["environment"].items():
        # The instances' names resolve only inside Compose's network: their address here.
        environment[key] = "127.0.0.1:" + value.split(":")[-1] if "INSTANCE" in key else value
    done = subprocess.run(
        [haproxy, "-c", "-f", str(HAPROXY_CONFIG)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
