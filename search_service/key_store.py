"""Named, revocable API keys, kept hashed in the catalog database (``loupe keys``).

A key is made here, never chosen by a person: ``loupe_`` and 43 characters of
``secrets.token_urlsafe(32)`` (256 random bits). It is shown once, when it is made; the
table keeps its SHA-256 and its first characters (to recognise it in a list). A fast hash
is enough for a secret of 256 random bits (nobody can try 2^256 candidates; slow password
hashes exist for secrets people choose), and it lets a request's key be found by an indexed
lookup. The name is what reviews record as who decided. A revoked key stays listed with
when it was revoked, and its name is never given to another key, so that what was recorded
under a name stays that key's. The table lives in the catalog database (PostgreSQL in the
scale-out setup), so every API process sees a key added or revoked by the command line at
its next request. Own SQLAlchemy metadata, created on first use (as the vocabularies').
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, String, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from connector.catalog.schema import utcnow

PREFIX = "loupe_"
SHOWN = 10  # characters of a key kept in clear to recognise it: "loupe_" and 4 more
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._@-]{0,63}$")
FINGERPRINT = re.compile(r"^[0-9a-f]{12}$")


class KeyStoreError(ValueError):
    """A name that cannot be used (invalid, taken, unknown); the message says which and why."""


class _Base(DeclarativeBase):
    pass


class ApiKeyRow(_Base):
    __tablename__ = "loupe_api_keys"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    shown: Mapped[str] = mapped_column(String(SHOWN))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


@dataclass(frozen=True)
class KeyInfo:
    name: str
    shown: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_json(self) -> dict:
        return {"name": self.name, "key_starts": self.shown, "created_at": _iso(self.created_at),
                "revoked_at": _iso(self.revoked_at), "active": self.active}


def key_sha256(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise KeyStoreError(f"key name {name!r}: start with a letter, then up to 63 letters, digits, '.', '_', "
                            "'@' or '-'")
    if FINGERPRINT.match(name):
        raise KeyStoreError(f"key name {name!r} reads as the fingerprint reviews record for a key of the "
                            "api_keys setting: choose another")
    return name


class KeyStore:
    """Reads and writes ``loupe_api_keys`` on the catalog's engine."""

    def __init__(self, engine: Engine) -> None:
        _Base.metadata.create_all(engine, checkfirst=True)
        self._session = sessionmaker(engine, expire_on_commit=False)

    def add(self, name: str) -> tuple[KeyInfo, str]:
        """Make a key named ``name``; returns it with the key itself (shown once, never stored)."""
        check_name(name)
        key = PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(name=name, key_sha256=key_sha256(key), shown=key[:SHOWN], created_at=utcnow())
        with self._session() as s:
            if s.get(ApiKeyRow, name) is not None:
                raise KeyStoreError(f"a key named {name!r} exists already (names are never reused, revoked "
                                    "ones included): choose another name")
            s.add(row)
            try:
                s.commit()
            except IntegrityError:  # the same name added at the same moment elsewhere
                raise KeyStoreError(f"a key named {name!r} exists already") from None
        return _info(row), key

    def list(self) -> list[KeyInfo]:
        with self._session() as s:
            return [_info(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.name))]

    def revoke(self, name: str) -> KeyInfo:
        """Revoke the key ``name`` (from the next request on); revoking twice keeps the first time."""
        with self._session() as s:
            row = s.get(ApiKeyRow, name)
            if row is None:
                known = ", ".join(r.name for r in s.scalars(select(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))))
                raise KeyStoreError(f"no key named {name!r}; active keys: {known or 'none'}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                s.commit()
            return _info(row)

    def name_of(self, key: str) -> str | None:
        """The name of the active key ``key``; None for an unknown or revoked one."""
        with self._session() as s:
            return s.scalar(select(ApiKeyRow.name).where(ApiKeyRow.key_sha256 == key_sha256(key),
                                                        ApiKeyRow.revoked_at.is_(None)))

    def active_count(self) -> int:
        with self._session() as s:
            return s.scalar(select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))) or 0


def _info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(row.name, row.shown, row.created_at, row.revoked_at)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"
