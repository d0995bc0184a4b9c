"""Every setting of the service in one place, each with a default and help text.

Values come from the environment (prefix ``MENTOR_SIDECAR_``), then from command-line overrides.
Parsing is pydantic-settings' (``BaseSettings``): each field's type says how its variable is
read, its ``description`` is the help text. The README's settings table is checked against
``documented_settings()`` by a test, so a new field here must be documented there.

A part with settings of its own (a platform plugin) declares a ``SettingsGroup`` subclass the
same way and passes it to ``documented_settings()``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "MENTOR_SIDECAR_"


def _setting(default: Any, help: str, **constraints: Any) -> Any:
    return Field(default=default, description=help, **constraints)


class SettingsError(ValueError):
    pass


class SettingsGroup(BaseSettings):
    """Settings read from ``MENTOR_SIDECAR_*`` variables: immutable, unknown keywords refused.

    Keyword construction (``Settings(data_dir=...)``) reads only its arguments, never the
    environment, so tests and embedders get exactly what they pass; ``from_env`` reads it.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", validate_default=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build settings from the environment, then apply non-None ``overrides``.

        A bad value raises ``SettingsError`` naming its variable (or the override's keyword).
        """
        from_environ = _MappingEnvSource(cls, os.environ if environ is None else environ)()
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**(from_environ | given))
        except ValidationError as exc:
            raise SettingsError(_describe(exc, set(given))) from exc


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Variable names are case-insensitive (the source looks them up lower-cased).
        return {name.lower(): value for name, value in self._environ.items()}


def _describe(exc: ValidationError, overridden: set[str]) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        where = name if name in overridden else env_name(name)
        got = _URL_PASSWORD.sub(r"\1***@", repr(error.get("input")))
        problems.append(f"{where}: {error['msg']} (got {got})")
    return "; ".join(problems)


# A password in a URL (a database URL's) is not repeated in an error message.
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")


class Settings(SettingsGroup):
    host: str = _setting("127.0.0.1", "Address the HTTP server listens on.")
    port: int = _setting(8080, "TCP port the HTTP server listens on.")
    data_dir: Path = _setting(
        Path("./mentor-sidecar-data"),
        "Folder holding the SQLite database (`sidecar.sqlite3`) and other files of the service.",
    )
    database_url: str = _setting(
        "",
        "Where the data is kept: empty for the SQLite file in the data folder, "
        "`sqlite:///ABSOLUTE/PATH` (or `sqlite:RELATIVE/PATH`) for another SQLite file, or "
        "`postgresql://USER:PASSWORD@HOST:PORT/NAME` for PostgreSQL (15 or later).",
    )
    redis_url: str = _setting(
        "",
        "Redis for several instances behind one address (`redis://[:PASSWORD@]HOST:PORT/DB`, "
        "`rediss://` for TLS): live notes, presence and panel events reach the people on the "
        "other instances through it, and quotas and websocket budgets count for all of them. "
        "Empty: one instance, all of it in process. Needs "
        "PostgreSQL in `MENTOR_SIDECAR_DATABASE_URL` (the instances share one database).",
    )
    redis_resync_seconds: float = _setting(
        2.0,
        "While Redis is unreachable, every this many seconds each open meeting's notes are read "
        "again from the database and what the other instances stored is sent to the people "
        "here (done once more when Redis is back), so an outage only slows the relay between "
        "instances to this period.",
        gt=0,
    )
    public_url: str = _setting(
        "",
        "Base URL people use to reach the service, e.g. `https://sidecar.example.org`. "
        "Links in emails and the CLI are built from it; empty means `http://HOST:PORT`.",
    )
    log_level: str = _setting("INFO", "Python logging level: DEBUG, INFO, WARNING or ERROR.")
    event_loop: Literal["uvloop", "asyncio"] = _setting(
        "uvloop",
        "Event loop that `serve` and `demo` run on: `uvloop` (installed with the service except "
        "on Windows; 10-15% less CPU per live-notes edit) or `asyncio` (the standard library's).",
    )
    trust_forwarded_headers: bool = _setting(
        False,
        "Trust `X-Forwarded-Proto` and `X-Forwarded-Host` from a reverse proxy in front.",
    )
    hsts_max_age: int = _setting(
        31536000, "`max-age` of the Strict-Transport-Security header, in seconds."
    )
    invite_ttl_hours: int = _setting(
        24 * 14, "How long an invite link for the other person stays valid, in hours."
    )
    signin_link_ttl_minutes: int = _setting(
        60 * 24, "How long a one-time sign-in link stays valid, in minutes."
    )
    session_cookie_days: int = _setting(
        30, "Lifetime of the browser session cookie set by a sign-in link, in days."
    )
    email_signin_link_ttl_hours: int = _setting(
        24 * 7,
        "How long the sign-in link in an agenda, reminder or summary email stays valid, in hours "
        "(each works once; a device already signed in just follows it).",
    )
    max_body_bytes: int = _setting(
        1024 * 1024, "Largest request body the JSON API accepts, in bytes; larger gets 413."
    )
    sqlite_busy_timeout_ms: int = _setting(
        5000,
        "How long SQLite waits for a lock before giving up, in milliseconds; on PostgreSQL,"
        " the live-notes writer's lock timeout.",
    )
    photo_max_bytes: int = _setting(
        5 * 1024 * 1024, "Largest profile photo upload, in bytes; it is stored as a 256 px JPEG."
    )
    notes_max_message_bytes: int = _setting(
        512 * 1024,
        "Largest live-notes websocket message, in bytes; a larger one closes that socket (1009).",
    )
    notes_max_document_bytes: int = _setting(
        4 * 1024 * 1024,
        "Largest a meeting's notes may grow, in bytes; an edit past it closes the socket (4413).",
    )
    notes_compact_every: int = _setting(
        500, "Stored note updates of a meeting are merged into one after this many."
    )
    notes_room_idle_seconds: float = _setting(
        30.0, "Seconds a meeting's notes stay in memory after the last person leaves."
    )
    notes_commit_window_ms: float = _setting(
        20.0,
        "The longest wait between commits of note updates, in milliseconds, reached only under "
        "real load (from 40 meetings typing at once; on PostgreSQL from 400): below 10 meetings "
        "(20 on PostgreSQL) each update is committed at once, in between the wait grows with the "
        "load; on SQLite, below 400 meetings, the event loop sleeps out the wait instead of "
        "waking for each keystroke (an edit reaches the other person once committed). Larger "
        "costs less CPU per edit and adds latency.",
        ge=0,
        le=1000,
    )
    notes_fast_path: Literal["auto", "off"] = _setting(
        "auto",
        "`auto`: live-notes frames skip aiohttp's public receive/send path where the installed "
        "aiohttp is one the fast path was tested with (3.14.x), else take the public path; "
        "`off`: always the public path (same behaviour, more CPU per edit).",
    )
    smtp_host: str = _setting(
        "", "SMTP server for outgoing email; empty writes each email as a file to MAIL_FOLDER."
    )
    smtp_port: int = _setting(587, "SMTP server port.")
    smtp_security: Literal["starttls", "tls", "none"] = _setting(
        "starttls", "How to secure the SMTP connection: `starttls`, `tls` (implicit) or `none`."
    )
    smtp_username: str = _setting("", "SMTP user name; empty sends without logging in.")
    smtp_password: str = _setting("", "SMTP password.")
    mail_from: str = _setting(
        "Mentor Sidecar <sidecar@localhost>", "The From address of every email the service sends."
    )
    mail_folder: str = _setting(
        "", "Where emails are written when no SMTP server is set; empty means DATA_DIR/mail."
    )
    outbox_poll_seconds: float = _setting(
        5.0, "How often the outbox looks for email that is due, at the longest, in seconds."
    )
    claim_timeout_seconds: float = _setting(
        600.0,
        "Seconds an email or webhook claimed for sending stays with the process that claimed it; "
        "after that another process (several may share one database) takes it over and sends it, "
        "as for a process that died mid-send. Keep it well above the longest send.",
        gt=0,
    )
    agenda_due_hours: int = _setting(
        24, "Hours before a meeting that the mentee is reminded to send the agenda, if not sent."
    )
    starting_soon_minutes: int = _setting(
        15, "Minutes before a meeting that both people get a reminder email."
    )
    reminders_poll_seconds: float = _setting(
        30.0, "How often the service looks for reminders that are due, in seconds."
    )
    step_due_reminders: bool = _setting(
        True, "Email the owner of a next step the day before it is due."
    )
    erase_grace_days: int = _setting(
        7,
        "Days an erased mentorship or profile is kept so either person can undo (0: at once).",
    )
    agenda_resend_minutes: int = _setting(
        5,
        "Minutes before the agenda of one meeting can be emailed to the other person again "
        "(POST .../agenda/send answers 429 with Retry-After meanwhile; 0: no limit).",
    )
    idle_end_minutes: int = _setting(
        15, "A live meeting nobody has open this many minutes after its scheduled end is ended."
    )
    end_check_seconds: float = _setting(
        30.0, "How often the service looks for meetings to end for being idle, in seconds."
    )
    reopen_hours: int = _setting(
        24,
        "For how many hours after it ended a meeting can be reopened (to go on, or to correct its "
        "notes); ending it again sends the summary once more, marked corrected.",
    )
    webhook_allow_private_addresses: bool = _setting(
        False,
        "Let a pair's summary webhook reach private, loopback or plain-http addresses (for an "
        "on-premise chat server); off, only public https hosts are posted to.",
    )
    shutdown_timeout: float = _setting(
        10.0, "Seconds the server waits for open requests on shutdown before closing them."
    )
    # --- Rate limits and quotas (sidecar/limits.py); 0 switches one off ------------------------
    signups_per_hour: int = _setting(
        20,
        "New people (starting a mentorship, accepting an invite) per hour from one address; "
        "behind a trusted proxy the address is the first `X-Forwarded-For` entry.",
    )
    invites_per_day: int = _setting(20, "Invite links one person may create per day.")
    uploads_per_hour: int = _setting(30, "Profile photo uploads one person may make per hour.")
    signin_requests_per_hour: int = _setting(
        10,
        '"Email me a sign-in link" requests per hour from one address (as for sign-ups, '
        "behind a trusted proxy the first `X-Forwarded-For` entry).",
    )
    signin_requests_per_email_per_hour: int = _setting(
        3,
        '"Email me a sign-in link" requests per hour for one email address, known or not, '
        "from anywhere: an inbox cannot be flooded.",
    )
    websocket_messages_per_second: int = _setting(
        200,
        "Messages one websocket (live notes, live events) may send per second, with bursts of "
        "up to twice that; a faster sender is slowed down, never disconnected (the service "
        "reads its socket more slowly), and its room is untouched. 0 turns the limit off.",
    )
    websockets_per_person: int = _setting(
        30,
        "Live connections (notes, live events) one person may have open at once, on all "
        "instances together; one more is refused with 429 until one closes. 0: no limit.",
    )
    websockets_per_meeting: int = _setting(
        60,
        "Live connections (notes, live events) open at once to one meeting, on all instances "
        "together; one more is refused with 429 until one closes. 0: no limit.",
    )
    # --- Call platforms (sidecar/platforms/): each one's own settings are in its package -------
    platforms: str = _setting(
        "all",
        "The call platforms to run, by name, comma-separated (`zoom,jitsi`): `all` runs every "
        "installed one (entry points `mentor_sidecar.platforms`), empty runs none.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if url and database_dialect(url) == "sqlite":
            sqlite_path(url)  # says what is wrong with it
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_needs_shared_database(cls, url: str, info: ValidationInfo) -> str:
        if not url:
            return url
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a Redis URL starts with redis://, rediss:// or unix://")
        database = info.data.get("database_url", "")
        if not database or database_dialect(database) == "sqlite":
            raise ValueError(
                "several instances need one shared database: set MENTOR_SIDECAR_DATABASE_URL "
                "to PostgreSQL (postgresql://...) to use Redis, or leave the Redis URL empty"
            )
        return url

    @property
    def database_dialect(self) -> Literal["sqlite", "postgresql"]:
        return database_dialect(self.database_url) if self.database_url else "sqlite"

    @property
    def database_path(self) -> Path:
        """The SQLite file (also when database_url names PostgreSQL: then it is not used)."""
        if self.database_url and self.database_dialect == "sqlite":
            return sqlite_path(self.database_url)
        return self.data_dir / "sidecar.sqlite3"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "127.0.0.1") else self.host
        return f"http://{host}:{self.port}"


def database_dialect(url: str) -> Literal["sqlite", "postgresql"]:
    """Which backend a database URL names; ValueError for anything else."""
    if url.startswith("sqlite:"):
        return "sqlite"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    scheme = url.split(":", 1)[0] if ":" in url else url[:20]
    raise ValueError(
        f"not a database URL this service knows ({scheme!r}): use sqlite:///PATH or "
        "postgresql://USER:PASSWORD@HOST:PORT/NAME"
    )


def sqlite_path(url: str) -> Path:
    """`sqlite:///abs/path` (or 4 slashes) -> /abs/path; `sqlite:rel/path` -> rel/path."""
    rest = url.removeprefix("sqlite:")
    if rest.startswith("///"):
        return Path("/" + rest.lstrip("/"))
    if rest.startswith("//") or not rest.strip("/"):
        raise ValueError("a SQLite URL is sqlite:///ABSOLUTE/PATH or sqlite:RELATIVE/PATH")
    return Path(rest)


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def all_setting_fields(
    extra_models: Sequence[type[SettingsGroup]] = (),
) -> list[tuple[str, FieldInfo]]:
    """(env name, field) of ``Settings`` and then of each extra model (a plugin's settings).

    Raises ``SettingsError`` when two models read the same variable.
    """
    named: dict[str, FieldInfo] = {}
    models: list[type[SettingsGroup]] = [Settings, *extra_models]
    for model in models:
        for field_name, info in model.model_fields.items():
            name = env_name(field_name)
            if name in named:
                raise SettingsError(f"{name} is declared twice ({model.__name__})")
            named[name] = info
    return list(named.items())


def documented_settings(
    extra_models: Sequence[type[SettingsGroup]] = (),
) -> list[tuple[str, Any, str]]:
    """(env name, default, help) for every setting, for the README table and `settings`."""
    return [
        (name, info.default, info.description or "")
        for name, info in all_setting_fields(extra_models)
    ]
