"""Database table of tasks (SQLAlchemy 2.x declarative mapping)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "TaskRow", "TASK_STATUSES", "FINISHED_STATUSES"]

TASK_STATUSES = ("pending", "processing", "success", "failed", "cancelled")
FINISHED_STATUSES = frozenset({"success", "failed", "cancelled"})


class Base(DeclarativeBase):
    pass


class TaskRow(Base):
    """One task: its request, its status and what it produced.

    Times are stored as naive UTC because SQLite keeps no time zone.
    """

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    prompt: Mapped[str | None] = mapped_column(Text, default=None)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    client: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        Index("ix_tasks_created_at", "created_at"),
        Index("ix_tasks_status_created_at", "status", "created_at"),
    )
