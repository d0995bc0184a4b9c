"""What a call platform gives the core: the plugin interface (after datasette's hookspecs).

A platform is a package of its own (zoom_app, jitsi_app, a Google Meet add-on...) that declares
an object satisfying `Platform` under the entry-point group `mentor_sidecar.platforms`
(pyproject.toml: ``[project.entry-points."mentor_sidecar.platforms"] zoom = "zoom_app:PLATFORM"``).
The core imports no platform: sidecar/platforms/loader.py finds them, and each one

- names itself (`name`: the identifier stored as a meeting's `ended_by` and call source);
- declares its settings (`settings_model`: a `SettingsGroup`, read from ``MENTOR_SIDECAR_*``
  like the core's own, each field with a default and help text: `mentor-sidecar settings` and
  the README's table list them);
- brings its tables (`migrations`: its own numbered list of `sidecar.db.Migration`, each with
  its SQLite and PostgreSQL text, recorded per platform in `platform_schema_version`; a plain
  `(version, sql)` pair is SQLite-only, see sidecar/db/platform_migrations.py) and says what
  of them is a person's (`privacy`: the same declaration the core's tables have, for the
  export and the erasure);
- installs its routes, API endpoints and background tasks (`install(app, settings)`: routes on
  ``app.router``, endpoints with ``sidecar.api.routing.api``, tasks as ``app.cleanup_ctx``), its
  pages widening their own Content-Security-Policy with ``sidecar.web.security.widen_csp``;
- reports what happens in calls to ``sidecar.call_events`` and to nothing else of the core's
  meeting state;
- may bring its own browser code (`front_end`: a `FrontEnd`, or None): the core serves the
  folder and has its pages load the platform's ES modules (web/README.md, "Platform scripts").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from aiohttp import web

from sidecar.db.migrations import Migration
from sidecar.settings import SettingsGroup


@dataclass(frozen=True)
class PrivacyDeclaration:
    """Which tables hold whose data, for the export (`export_archive`) and the erasure.

    - `person_tables`: table -> SELECT of a person's rows (`:person` bound);
    - `mentorship_tables`: table -> SELECT of a mentorship's rows (`:mentorship` bound; the
      ids of its meetings are sidecar.db.privacy_tables.MEETINGS_OF_MENTORSHIP);
      its rows go with the mentorship by ON DELETE CASCADE;
    - `erase_with_mentorship`: statements run in the erasure's transaction (`:mentorship`
      bound) for rows no foreign key ties to the mentorship;
    - `not_exported`: table -> why its rows are not exported.
    """

    person_tables: Mapping[str, str] = field(default_factory=dict)
    mentorship_tables: Mapping[str, str] = field(default_factory=dict)
    erase_with_mentorship: Sequence[str] = ()
    not_exported: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FrontEnd:
    """A platform's browser code, shipped in its package.

    - `static_dir`: the folder; the core serves every file in it, publicly, under
      ``/static/platforms/<name>/`` (with ``?v=`` a hash of the folder's files, for caching);
    - `page_scripts`: page name (``body[data-page]``: ``panel``, the platform's own pages) ->
      ES modules, paths relative to `static_dir`, that the core's page loads for it. Such a
      module exports `pages` (page name -> ``render(root, settings, core)``) and/or
      ``panel(root, info, core)``, called after the meeting panel drew itself.
    """

    static_dir: Path
    page_scripts: Mapping[str, Sequence[str]] = field(default_factory=dict)


@runtime_checkable
class Platform(Protocol):
    """One call platform, as the loader finds it under `mentor_sidecar.platforms`."""

    @property
    def name(self) -> str: ...

    @property
    def settings_model(self) -> type[SettingsGroup]: ...

    @property
    def migrations(self) -> Sequence[Migration | tuple[int, str]]: ...

    @property
    def privacy(self) -> PrivacyDeclaration: ...

    @property
    def front_end(self) -> FrontEnd | None: ...

    def install(self, app: web.Application, settings: SettingsGroup) -> None:
        """Add routes, endpoints and cleanup contexts; `settings` is a `settings_model`. A bad
        setting raises sidecar.settings.SettingsError, which stops the start."""
        ...
