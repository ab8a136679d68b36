"""Settings read from the environment or a `.env` file, once, at start-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def read_dotenv(path: Path) -> dict[str, str]:
    """Return the KEY=VALUE pairs of a `.env` file, or nothing if it is absent."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Settings:
    """Everything the gateway, the actions and the CLI need to know."""

    data_dir: Path
    host: str
    port: int
    public_url: str
    rasa_port: int
    actions_port: int
    model_path: Path
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_number: str | None
    large_quantity: int
    max_quantity: int
    delivery_days: str
    delivery_windows: str
    delivery_lead_hours: int
    delivery_slot_capacity: int
    timezone: str
    rasa_timeout_seconds: float
    volunteer_hours: str
    phone_speech: str
    twilio_voice: str
    retention_days: int
    speech_words_per_minute: int
    vosk_model_path: str | None
    recognition_processes: int | None
    """Worker processes for speech recognition; 0 recognises in the gateway's
    own process, None one per core."""
    call_reminders: str
    volunteer_reminders: str

    @property
    def voice_dir(self) -> Path:
        """Speech models built from our words, and the cache of spoken replies."""
        return self.data_dir / "voice"

    @property
    def volunteer_hours_range(self) -> tuple[time, time]:
        """When volunteers are usually about, for telling residents when to
        expect a reply: "09:00-17:00"."""
        opens, closes = self.volunteer_hours.split("-")
        return time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())

    @property
    def console_url(self) -> str:
        return self.public_url + "/console"

    @property
    def twilio_ready(self) -> bool:
        return bool(
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_number
        )

    @property
    def database_path(self) -> Path:
        return self.data_dir / "helping_hands.db"

    @property
    def tracker_database_path(self) -> Path:
        return self.data_dir / "rasa_tracker.db"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def rasa_token(self) -> str:
        """The Rasa API token, made once and kept in the data folder.

        Several processes may ask at the same moment: the token is written to
        a private file beside it and moved into place, so nobody reads it
        half-written, and the first one made is the one everybody uses.
        """
        path = self.data_dir / "rasa_api_token"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".rasa_api_token.{os.getpid()}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(secrets.token_urlsafe(32))
            try:
                os.link(draft, path)  # fails if another process got there first
            except FileExistsError:
                pass
            finally:
                draft.unlink(missing_ok=True)
        return path.read_text(encoding="utf-8").strip()


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from `.env` in the project root, overridden by the environment."""
    values = read_dotenv(PROJECT_ROOT / ".env")
    values.update(os.environ if environ is None else environ)

    def get(name: str, default: str) -> str:
        return values.get(name) or default

    data_dir = Path(get("HH_DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()
    port = int(get("HH_PORT", "8000"))
    model_default = PROJECT_ROOT / "var" / "models" / "helping-hands.tar.gz"
    return Settings(
        data_dir=data_dir,
        host=get("HH_HOST", "127.0.0.1"),
        port=port,
        public_url=get("HH_PUBLIC_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        rasa_port=int(get("HH_RASA_PORT", "5005")),
        actions_port=int(get("HH_ACTIONS_PORT", "5055")),
        model_path=Path(get("HH_MODEL_PATH", str(model_default))).resolve(),
        twilio_account_sid=values.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=values.get("TWILIO_AUTH_TOKEN") or None,
        twilio_number=values.get("TWILIO_NUMBER") or None,
        large_quantity=int(get("HH_LARGE_QUANTITY", "10")),
        max_quantity=int(get("HH_MAX_QUANTITY", "50")),
        delivery_days=get("HH_DELIVERY_DAYS", "mon,tue,wed,thu,fri,sat"),
        delivery_windows=get("HH_DELIVERY_WINDOWS", "10:00-12:00,14:00-16:00"),
        delivery_lead_hours=int(get("HH_DELIVERY_LEAD_HOURS", "18")),
        delivery_slot_capacity=int(get("HH_DELIVERY_SLOT_CAPACITY", "20")),
        timezone=get("HH_TIMEZONE", "Europe/London"),
        rasa_timeout_seconds=float(get("HH_RASA_TIMEOUT", "8")),
        volunteer_hours=get("HH_VOLUNTEER_HOURS", "09:00-17:00"),
        phone_speech=get("HH_PHONE_SPEECH", "local").strip().lower(),
        twilio_voice=get("HH_TWILIO_VOICE", "Polly.Amy"),
        retention_days=int(get("HH_RETENTION_DAYS", "365")),
        speech_words_per_minute=int(get("HH_SPEECH_RATE", "150")),
        vosk_model_path=values.get("VOSK_MODEL_PATH") or None,
        recognition_processes=(
            int(values["HH_RECOGNITION_PROCESSES"])
            if values.get("HH_RECOGNITION_PROCESSES", "").strip()
            else None
        ),
        call_reminders=values.get("HH_CALL_REMINDERS", "1d,1h"),
        volunteer_reminders=values.get("HH_VOLUNTEER_REMINDERS", "1h"),
    )
