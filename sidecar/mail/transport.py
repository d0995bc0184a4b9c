"""Where mail goes: an SMTP server, or (with no SMTP configured) a folder of .eml files."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from sidecar.domain.ids import utcnow
from sidecar.settings import Settings

log = logging.getLogger(__name__)


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...

    def describe(self) -> str: ...


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )

    def describe(self) -> str:
        s = self._settings
        return f"SMTP {s.smtp_host}:{s.smtp_port} ({s.smtp_security})"


class FolderTransport:
    """For the demo and for trying things out: every message becomes a file to open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        subject = re.sub(r"[^A-Za-z0-9]+", "-", str(message["Subject"]))[:60].strip("-")
        path = self.folder / f"{utcnow():%Y%m%dT%H%M%S%f}-{subject}.eml"
        path.write_bytes(message.as_bytes())
        log.info("email to %s written to %s (no SMTP configured)", message["To"], path)

    def describe(self) -> str:
        return f"folder {self.folder} (no SMTP configured)"


def transport_for(settings: Settings) -> MailTransport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FolderTransport(
        Path(settings.mail_folder) if settings.mail_folder else settings.data_dir / "mail"
    )
