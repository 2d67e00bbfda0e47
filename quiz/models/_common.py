from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now; passed as a callable default, never evaluated at import."""
    return datetime.now(UTC)
