"""Settings from the environment (prefix ``SSCARD_``) and an optional ``.env`` file."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Every knob of the platform; documented in README.md (Configuration)."""

    model_config = SettingsConfigDict(
        env_prefix="SSCARD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.development
    database_url: str = "sqlite:///var/sscard.db"
    redis_url: str | None = None
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics answers only `Authorization: Bearer <token>`.",
    )
    data_dir: Path = Path("var")

    master_key: SecretStr | None = Field(
        default=None, description="Master key (32 hex characters); overrides the key file."
    )
    master_key_file: Path | None = Field(
        default=None, description="Master key file; default <data_dir>/keys/master.key."
    )

    region_code: str = Field(
        default="370800", description="GB/T 2260 code of the city or province this platform serves."
    )
    region_name: str = "济宁市"

    photo_format: str = "JPEG"
    photo_width: int = 358
    photo_height: int = 441
    photo_min_kb: int = 9
    photo_max_kb: int = 60

    card_temporary_loss_days: int = 5
    card_restore_window_days: int = 30
    card_max_pin_failures: int = 3
    card_validity_years: int = 10

    audit_chains: int = Field(
        default=0, description="Parallel audit chains; 0 = 1 on SQLite, 16 on PostgreSQL."
    )

    ecard_code_ttl_seconds: int = 60
    ecard_offline_minutes: int = 10
    ecard_max_pin_failures: int = 10
    ecard_session_minutes: int = 30
    ecard_family_max: int = 5
    pay_code_ttl_seconds: int = Field(default=60, ge=10, le=300)
    """How long a resident's payment code (付款码) may be scanned."""
    pay_no_pin_limit_fen: int = Field(default=50_000, ge=0)
    """Payments by payment code up to this amount need no PIN (500.00 yuan); above it the
    e-card PIN is asked for."""
    pay_day_limit_fen: int = Field(default=500_000, ge=0)
    """What one card may pay by payment code and merchant QR in one Beijing day (5,000.00)."""
    face_verifier: str | None = Field(
        default=None,
        description="module:callable of a real face-verification service (see docs/ecard.md).",
    )

    province_url: str | None = Field(
        default=None, description="Base URL of the province card management centre (省卡管)."
    )
    bank_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Bank institution code -> base URL, JSON: {"BANK-ICBC": "http://..."}.',
    )
    transport_url: str | None = None
    social_url: str | None = Field(
        default=None, description="Base URL of the social insurance system (社会保险经办系统)."
    )
    contribution_grades_yuan: list[int] = Field(
        default=[200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 3000],
        description="城乡居民基本养老保险 yearly contribution grades offered (yuan), JSON list.",
    )
    medical_url: str | None = Field(
        default=None, description="Base URL of the medical insurance system (医保)."
    )
    peer_timeout_seconds: float = 15.0
    pay_max_fen: int = Field(
        default=5_000_000, ge=1, description="Largest amount of one order, in fen (分)."
    )
    pay_reverse_after_seconds: int = Field(
        default=300,
        ge=10,
        description="A debit whose outcome the bank still does not know after this long is "
        "reversed (冲正) by the next resolve.",
    )
    pay_order_timeout_seconds: int = Field(
        default=900, ge=60, description="How long an unpaid order stays open by default."
    )
    pay_cutoff: str = Field(
        default="23:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Daily clearing cut-off (日切), Beijing time HH:MM: a payment after it "
        "belongs to the next clearing day.",
    )
    pay_settlement_bank: str = Field(
        default="SETTLE",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Institution code of the reserve bank (备付金银行) that pays merchants out.",
    )
    recon_four_eyes_fen: int = Field(
        default=100_000,
        ge=0,
        description="A reconciliation adjustment above this many fen needs a second operator.",
    )
    recon_max_file_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1,
        description="A daily file uploaded on the reconciliation page (对账文件) above this "
        "many bytes is refused on the page; keep it below SSCARD_MAX_UPLOAD_BYTES.",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 200 * 1024 * 1024
    """Limit for file uploads (bulk imports, result files) under UPLOAD_PATHS."""
    import_max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    """An XLSX import file whose parts (summed) inflate past this is refused before reading."""
    import_max_zip_ratio: int = Field(default=100, ge=1)
    """An XLSX import file that inflates more than this many times its size is refused."""
    import_max_cells: int = Field(default=20_000_000, ge=1)
    """An XLSX import file whose first worksheet holds more cells is refused."""
    token_ttl_minutes: int = 480
    session_ttl_minutes: int = 480
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    db_pool_size: int = 10
    http_threads: int = Field(default=10, ge=1, le=200)
    """Requests a server process handles at once in blocking handlers (database work); more
    wait their turn. Match it to ``db_pool_size``: threads beyond the pool only wait."""
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "keys" / "master.key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
