"""Settings from the environment or ``.env``; the flat names are a contract (see README).

(Over 400 lines on purpose: one flat class, every setting with its default, bounds and the
one-line reason it exists, next to the validators that name a bad one at start; splitting it
would scatter the contract the README documents.)"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dialogs.wording import LOCALES

MASK = "***"
# Shorter secrets are not looked for in log lines: they would mask ordinary words.
MIN_REDACTED = 4
# A bearer token that guards /metrics on a public port: too short, it could be guessed.
MIN_METRICS_TOKEN = 16


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def safe_url(url: str) -> str:
    """``url`` fit for a log line or a repr: the password masked, no query nor fragment
    (they may carry tokens)."""
    parts = _split(url)
    if parts is None:
        return MASK
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}" if parts.scheme else MASK


def _web_url(url: str, *, https_only: bool = False) -> bool:
    """An absolute http(s) URL without query, fragment nor password; ``https_only``: plain
    http only to this machine (the sandbox's provider)."""
    parts = _split(url)
    if parts is None or parts.query or parts.fragment or not parts.hostname:
        return False
    if parts.password is not None:
        return False
    if parts.scheme == "https":
        return True
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    return parts.scheme == "http" and (local or not https_only)


def url_password(url: str) -> str | None:
    parts = _split(url)
    return parts.password if parts is not None else None


class SecretUrl(SecretStr):
    """A URL with a password: ``get_secret_value()`` is the URL; ``str``, ``repr`` (and so
    the settings' own repr) show it through :func:`safe_url`."""

    def _display(self) -> str:
        return safe_url(self.get_secret_value())


# A worker's name in the outbox's leases: ``<worker>/<lane>#<8 hex>:<n>`` fits 64 characters.
WORKER_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,39}$")


def _int_list(value: object) -> object:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        return [int(p) for p in parts if p]
    return value


IntList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
        # A validation error never repeats the input: it holds the URLs and their passwords.
        hide_input_in_errors=True,
    )

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    telegram_api_url: str | None = Field(default=None, alias="TELEGRAM_API_URL")
    database_url: SecretUrl = Field(
        default=SecretUrl("sqlite+aiosqlite:///data/bot.db"), alias="DATABASE_URL"
    )
    redis_url: SecretUrl | None = Field(default=None, alias="REDIS_URL")
    # Where dialog and FSM state live; empty: Redis with REDIS_URL, else the bot's database.
    # "memory" forgets every draft at a restart: for tests and the benchmark's floor only.
    fsm_storage: Literal["redis", "database", "memory"] | None = Field(
        default=None, alias="FSM_STORAGE"
    )
    # In the database, a dialog nobody touched for this long is forgotten.
    fsm_state_ttl_days: float = Field(default=7, gt=0, alias="FSM_STATE_TTL_DAYS")
    # A closed application keeps its applicant's personal data this long, then the hourly
    # retention job anonymises it (FIN, phone, e-mail, texts, the street).
    retention_days: int = Field(default=365, ge=1, alias="RETENTION_DAYS")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # Updates one worker handles at once; the rest wait their turn in memory, so a burst
    # queues before the database pool instead of timing out inside it.
    max_updates_in_flight: int = Field(default=64, ge=1, alias="MAX_UPDATES_IN_FLIGHT")
    # Connections to Redis per worker; empty: twice MAX_UPDATES_IN_FLIGHT (an update holds at
    # most one at a time, the outbox and the isolation locks need a few more). When all are
    # busy a command waits up to REDIS_POOL_TIMEOUT_S for one instead of failing at once.
    redis_max_connections: int | None = Field(default=None, ge=1, alias="REDIS_MAX_CONNECTIONS")
    redis_pool_timeout_s: float = Field(default=20, gt=0, alias="REDIS_POOL_TIMEOUT_S")
    # Per Telegram user, at most THROTTLE_UPDATES updates in any THROTTLE_WINDOW_S seconds;
    # the rest are dropped, the first of them answered "too fast". 20 in 10 s lets a person
    # tap and type at their fastest and send an album of 10 pictures, and holds a flood to
    # 2 updates a second (Telegram lets a bot send about one message a second to a chat).
    throttle_updates: int = Field(default=20, ge=1, alias="THROTTLE_UPDATES")
    throttle_window_s: int = Field(default=10, ge=1, alias="THROTTLE_WINDOW_S")
    # Against probing: distinct subscriber codes and FINs one account may try per Baku day;
    # a code tried by more accounts than PROBE_ACCOUNTS_PER_CODE in a day is reported to the
    # support chat.
    probe_codes_per_day: int = Field(default=10, ge=1, alias="PROBE_CODES_PER_DAY")
    probe_fins_per_day: int = Field(default=3, ge=1, alias="PROBE_FINS_PER_DAY")
    probe_accounts_per_code: int = Field(default=3, ge=1, alias="PROBE_ACCOUNTS_PER_CODE")

    staff_chat_id: int | None = Field(default=None, alias="STAFF_CHAT_ID")
    staff_user_ids: IntList = Field(default_factory=list, alias="STAFF_USER_IDS")
    staff_locale: str = Field(default="az", alias="STAFF_LOCALE")
    support_user_ids: IntList = Field(default_factory=list, alias="SUPPORT_USER_IDS")
    support_chat_id: int | None = Field(default=None, alias="SUPPORT_CHAT_ID")

    pay_url_template: str = Field(
        default="https://www.azersu.az/az/payment?abonent={subscriber_code}",
        alias="PAY_URL_TEMPLATE",
    )
    subscriber_code_pattern: str = Field(default=r"^\d{6,15}$", alias="SUBSCRIBER_CODE_PATTERN")
    default_locale: str = Field(default="az", alias="DEFAULT_LOCALE")
    # Refuse every filing of an account that has not proved the FIN (phone match or e-gov).
    require_verified_identity: bool = Field(default=False, alias="REQUIRE_VERIFIED_IDENTITY")

    work_order_deadline_hours: float = Field(default=72, gt=0, alias="WORK_ORDER_DEADLINE_HOURS")
    reminder_interval_hours: float = Field(default=24, gt=0, alias="REMINDER_INTERVAL_HOURS")
    # How often each worker looks for overdue orders to remind of and restoration offers due
    # (the sandbox looks every 15 s, so an offer can be tried there without waiting).
    schedule_every_s: float = Field(default=300, ge=1, alias="SCHEDULE_EVERY_S")
    # How far ahead a suspension's optional "until" date may be, in days (three days before
    # it the subscriber is offered a restoration application).
    suspend_until_max_days: int = Field(default=365, ge=1, le=3650, alias="SUSPEND_UNTIL_MAX_DAYS")
    # Restoration offers go out from this Baku hour until before that one (nobody is woken).
    offer_from_hour: int = Field(default=9, ge=0, le=23, alias="OFFER_FROM_HOUR")
    offer_until_hour: int = Field(default=21, ge=1, le=24, alias="OFFER_UNTIL_HOUR")
    # A photo with Done's result note (the note as its caption): optional, required or off.
    done_photo: Literal["optional", "required", "off"] = Field(
        default="optional", alias="DONE_PHOTO"
    )

    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=587, alias="SMTP_PORT")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", alias="SMTP_SECURITY"
    )
    mail_from: str = Field(default="Azərsu <no-reply@azersu.az>", alias="MAIL_FROM")
    mail_dir: str = Field(default="data/mail", alias="MAIL_DIR")
    # The e-mail's footer: its sender is not read, so it says where to ask instead.
    mail_contact_phone: str = Field(default="195", min_length=1, alias="MAIL_CONTACT_PHONE")
    mail_contact_site: str = Field(
        default="https://www.azersu.az", pattern=r"^https?://\S+$", alias="MAIL_CONTACT_SITE"
    )

    billing_api_url: SecretUrl | None = Field(default=None, alias="BILLING_API_URL")
    billing_api_token: SecretStr | None = Field(default=None, alias="BILLING_API_TOKEN")
    billing_timeout_s: float = Field(default=5.0, gt=0, alias="BILLING_TIMEOUT_S")

    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    webhook_set: bool = Field(default=True, alias="WEBHOOK_SET")
    # The webhook must be reachable by Telegram or the load balancer; LISTEN_HOST narrows it.
    listen_host: str = Field(default="0.0.0.0", alias="LISTEN_HOST")  # noqa: S104
    listen_port: int = Field(default=8000, alias="LISTEN_PORT")
    # /metrics and /healthz: on a listener of their own (METRICS_HOST:METRICS_PORT, loopback
    # by default, in webhook and polling mode), never on the webhook's public one, unless
    # METRICS_PORT is 0 and METRICS_TOKEN is set: then on LISTEN_PORT behind the token (see
    # ``metrics_listener``). With a token, /metrics asks for it on either listener.
    metrics_host: str = Field(default="127.0.0.1", alias="METRICS_HOST")
    metrics_port: int = Field(default=9000, ge=0, le=65535, alias="METRICS_PORT")
    metrics_token: SecretStr | None = Field(default=None, alias="METRICS_TOKEN")
    # How long an update's id is remembered, so a copy delivered again is skipped; Telegram
    # keeps an unconfirmed update for 24 hours. 0 turns the check off (the sandbox, whose
    # Telegram numbers its updates from the same id at every start).
    seen_updates_ttl_hours: float = Field(default=24, ge=0, alias="SEEN_UPDATES_TTL_HOURS")

    # The e-gov login (OpenID Connect, authorization code with PKCE): all of EGOV_ISSUER,
    # EGOV_CLIENT_ID and EGOV_CLIENT_SECRET, or none. EGOV_FIN_CLAIM names the ID token's
    # claim that carries the FIN. The provider sends the browser back to
    # PUBLIC_URL/auth/callback (PUBLIC_URL: this bot's public base URL; empty: the origin of
    # WEBHOOK_URL), served beside the webhook, or when polling on LISTEN_HOST:LISTEN_PORT.
    egov_issuer: str | None = Field(default=None, alias="EGOV_ISSUER")
    egov_client_id: str | None = Field(default=None, alias="EGOV_CLIENT_ID")
    egov_client_secret: SecretStr | None = Field(default=None, alias="EGOV_CLIENT_SECRET")
    egov_fin_claim: str = Field(default="fin", min_length=1, alias="EGOV_FIN_CLAIM")
    public_url: str | None = Field(default=None, alias="PUBLIC_URL")

    sandbox_port: int = Field(default=8080, alias="SANDBOX_PORT")
    sandbox_api_port: int = Field(default=8081, alias="SANDBOX_API_PORT")
    # The sandbox's page and Bot API listen here; 0.0.0.0 shows them to the whole network.
    sandbox_host: str = Field(default="127.0.0.1", alias="SANDBOX_HOST")
    # Everything the sandbox writes (its database, its e-mails): never DATABASE_URL's database.
    sandbox_data_dir: str = Field(default="data/sandbox", alias="SANDBOX_DATA_DIR")

    outbox_per_chat_per_second: float = Field(
        default=1.0, gt=0, alias="OUTBOX_PER_CHAT_PER_SECOND"
    )
    outbox_per_group_per_minute: float = Field(
        default=20.0, gt=0, alias="OUTBOX_PER_GROUP_PER_MINUTE"
    )
    outbox_global_per_second: float = Field(default=30.0, gt=0, alias="OUTBOX_GLOBAL_PER_SECOND")
    # How long a claimed outbox row stays leased without its worker's heartbeat (a sixth of
    # it); the Telegram lane's lead is leased for a third of it. After a crash the rows of a
    # worker that does not come back are sent by another within this time.
    outbox_lease_s: float = Field(default=30.0, ge=1, le=3600, alias="OUTBOX_LEASE_S")
    # This worker's name in the outbox's leases, the same across its restarts and unique
    # among the live workers; empty: <host>:<LISTEN_PORT> with a webhook, <host>:main polling.
    worker_id: str | None = Field(default=None, alias="WORKER_ID")

    _split = field_validator("staff_user_ids", "support_user_ids", mode="before")(_int_list)

    @field_validator("worker_id", mode="before")
    @classmethod
    def _worker_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if not WORKER_ID.match(value):
                raise ValueError("at most 40 of a-z 0-9 . _ : - (starting with a letter or digit)")
        return value

    @field_validator("subscriber_code_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretUrl) -> SecretUrl:
        try:
            make_url(value.get_secret_value())
        except (ArgumentError, ValueError):
            # Never the value: it holds the password.
            raise ValueError("not a database URL (dialect+driver://user:pass@host/db)") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretUrl | None) -> SecretUrl | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_METRICS_TOKEN:
            raise ValueError(
                f"must be at least {MIN_METRICS_TOKEN} characters (e.g. openssl rand -hex 24)"
            )
        return value

    @field_validator("egov_issuer")
    @classmethod
    def _egov_issuer(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.rstrip("/")
            if not _web_url(value, https_only=True):
                raise ValueError(
                    "must be an https:// URL (http:// only on this machine), without a query"
                )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.rstrip("/")
            if not _web_url(value):
                raise ValueError("must be an http(s):// URL without a query or fragment")
        return value

    @field_validator("pay_url_template")
    @classmethod
    def _pay_url(cls, value: str) -> str:
        if "{subscriber_code}" not in value or not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL containing {subscriber_code}")
        try:
            value.format(subscriber_code="1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError("only the {subscriber_code} placeholder is allowed") from exc
        return value

    @field_validator("default_locale", "staff_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @model_validator(mode="after")
    def _required_together(self) -> Settings:
        if self.bot_token is not None and self.staff_chat_id is None:
            raise ValueError("STAFF_CHAT_ID is required when BOT_TOKEN is set")
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        if self.fsm_storage == "redis" and not self.redis_url:
            raise ValueError("REDIS_URL is required when FSM_STORAGE is redis")
        if self.webhook_url and self.metrics_port == self.listen_port:
            raise ValueError("METRICS_PORT must differ from LISTEN_PORT (the webhook's)")
        if self.offer_from_hour >= self.offer_until_hour:
            raise ValueError("OFFER_FROM_HOUR must be before OFFER_UNTIL_HOUR")
        egov = {
            "EGOV_ISSUER": self.egov_issuer,
            "EGOV_CLIENT_ID": self.egov_client_id,
            "EGOV_CLIENT_SECRET": self.egov_client_secret,
        }
        given = [name for name, value in egov.items() if value]
        if given and len(given) < len(egov):
            missing = next(name for name, value in egov.items() if not value)
            raise ValueError(f"{missing} is required when {given[0]} is set (the e-gov login)")
        if given and self.public_base_url is None:
            raise ValueError("PUBLIC_URL (or WEBHOOK_URL) is required for the e-gov login")
        if given and not self.webhook_url and self.metrics_port == self.listen_port:
            raise ValueError("METRICS_PORT must differ from LISTEN_PORT (the e-gov login's)")
        return self

    def secret_values(self) -> set[str]:
        """Every secret this process knows, as it could appear in a log line or an error:
        the tokens, the SMTP password and the URLs' passwords (raw and percent-decoded)."""
        found: set[str] = set()
        tokens = (
            self.bot_token,
            self.webhook_secret,
            self.smtp_password,
            self.billing_api_token,
            self.metrics_token,
            self.egov_client_secret,
        )
        found.update(token.get_secret_value() for token in tokens if token is not None)
        for url in (self.database_url, self.redis_url, self.billing_api_url):
            password = url_password(url.get_secret_value()) if url is not None else None
            if password:
                found.update((password, unquote(password)))
        return {secret for secret in found if len(secret) >= MIN_REDACTED}

    @property
    def egov(self) -> bool:
        """The e-gov login is configured (the validation made it all or nothing)."""
        return bool(self.egov_issuer and self.egov_client_id and self.egov_client_secret)

    @property
    def public_base_url(self) -> str | None:
        """Where the world reaches this bot's web server: PUBLIC_URL, else WEBHOOK_URL's
        origin."""
        if self.public_url:
            return self.public_url
        parts = _split(self.webhook_url) if self.webhook_url else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def sandbox(self) -> bool:
        return self.bot_token is None

    @property
    def metrics_listener(self) -> Literal["own", "public", "none"]:
        """Where /metrics and /healthz are served: on METRICS_HOST:METRICS_PORT ("own"); with
        METRICS_PORT 0, on LISTEN_HOST:LISTEN_PORT behind METRICS_TOKEN ("public"), or, without
        a token, nowhere ("none"): never on the public port without the token."""
        if self.metrics_port:
            return "own"
        return "public" if self.metrics_token is not None else "none"

    @property
    def redis_pool_size(self) -> int:
        return self.redis_max_connections or 2 * self.max_updates_in_flight

    @property
    def fsm_backend(self) -> Literal["redis", "database", "memory"]:
        if self.fsm_storage is not None:
            return self.fsm_storage
        return "redis" if self.redis_url else "database"


def describe_error(exc: ValidationError) -> str:
    """One line naming the first bad setting by its environment name."""
    err = exc.errors()[0]
    loc = err.get("loc") or ()
    name = str(loc[0]).upper() if loc else ""
    msg = err.get("msg", "invalid")
    msg = msg.removeprefix("Value error, ")
    if name:
        return f"Setting {name} is invalid: {msg}"
    return f"Settings are invalid: {msg}"
