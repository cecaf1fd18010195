"""Tidbok's one settings module: every deployment knob is an environment variable with a
default that runs out of the box (healthchecks' hc/settings.py is the model)."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from tidbok.env import envbool, envchoice, envint, envsecret, envurl

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("TIDBOK_DATA_DIR", BASE_DIR / "data"))


DEBUG = envbool("DEBUG", "false")
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY and (DATA_DIR / "secret_key").is_file():
    # The key `make run` keeps in the data folder, so that a second shell (a staff command
    # such as `manage.py client_booster`) signs with it too, without SECRET_KEY_FILE.
    SECRET_KEY = (DATA_DIR / "secret_key").read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY (or SECRET_KEY_FILE, or a key in {DATA_DIR / 'secret_key'}) must be set when DEBUG is "
            "off; `make run` creates one in data/secret_key."
        )
    SECRET_KEY = "insecure-debug-only-key"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
SITE_URL = envurl("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Where video rooms live (R20, R29): a Jitsi Meet server, the room's name appended. `make run`
# points it at Tidbok's own practice room instead (scripts/run; README, "Video calls").
VIDEO_BASE_URL = os.environ.get("VIDEO_BASE_URL", "https://meet.jit.si/").strip()
# R20: how many minutes before the start a video link opens (`Booking.video_window`); the pages,
# the calendar feed and the mails say this number.
VIDEO_OPENS_MINUTES_BEFORE = envint("VIDEO_OPENS_MINUTES_BEFORE", "15", minimum=0, maximum=24 * 60)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    # Database triggers from models' Meta (the access log is append-only on PostgreSQL, R39);
    # before `domain`, whose models name them.
    "pgtrigger",
    "domain",
    "api",
    "therapist_pages",
    "client_pages",
    "tidbok",
    # After tidbok, whose templates override its script tags (tidbok/templates/django_otp_webauthn).
    "django_otp_webauthn",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # R39: the reads a page or API answer showed are recorded once the answer is sent.
    "tidbok.middleware.access_log",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "tidbok.middleware.no_store",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages (its redirects carry one): idle sessions end, then a log-in that
    # still owes its second factor reaches nothing but the second step (R42).
    "tidbok.middleware.idle_sessions",
    "tidbok.middleware.second_factor",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A view whose database is unreachable or busy (a lock held past DB_LOCK_TIMEOUT_MS): 503.
    "tidbok.middleware.database_unavailable",
    # Last, so that the headers the others add (CSP, X-Frame-Options, no-store) reach its JSON.
    "tidbok.middleware.api_errors_as_json",
]

ROOT_URLCONF = "tidbok.urls"
WSGI_APPLICATION = "tidbok.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tidbok.context_processors.eid",
            ],
        },
    },
]

# Database: SQLite in DATA_DIR unless DATABASE_URL says otherwise. (DATA_DIR is made by
# those who write there: the SQLite backend `tidbok/sqlite3` on its first connection,
# `collectstatic`, `scripts/run`; never at import.)
_database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{DATA_DIR / 'tidbok.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url, conn_max_age=envint("DATABASE_CONN_MAX_AGE", "60", minimum=0), conn_health_checks=True,
        )
    }
except (ValueError, KeyError) as e:
    raise ImproperlyConfigured(f"DATABASE_URL must be a database address such as postgres://user@host:5432/name "
                               f"or sqlite:///path ({e}).") from None
if not DATABASES["default"].get("NAME"):
    raise ImproperlyConfigured("DATABASE_URL must name the database (postgres://user@host:5432/name).")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE makes every transaction take SQLite's write lock when it starts, so the
    # check-then-write of a booking or a slot is serialised (R11, R16); WAL lets readers go on.
    # secure_delete: a deleted row's bytes are overwritten, so an erased person (R41) is not
    # left readable in the file's free pages (docs/privacy.md).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
    }
    # Django's backend that makes the file's folder when it first connects (tidbok/sqlite3).
    DATABASES["default"]["ENGINE"] = "tidbok.sqlite3"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
# On PostgreSQL a statement waits at most this long (milliseconds) for a lock another
# transaction holds; then it fails, and the request answers 503 with Retry-After instead of
# holding a worker (tidbok.middleware.database_unavailable; docs/architecture.md, "Concurrency").
# 0 waits for ever.
DB_LOCK_TIMEOUT_MS = envint("DB_LOCK_TIMEOUT_MS", "5000", minimum=0)
# What stands between Tidbok and PostgreSQL: "none" (a direct connection, or a pooler in
# session mode) or "pgbouncer" (PgBouncer in transaction mode; docs/deploy.md). Migrations
# go to the primary directly, never through a transaction pooler.
DATABASE_POOLER = envchoice("DATABASE_POOLER", "none", ("none", "pgbouncer"))
if IS_POSTGRES:
    INSTALLED_APPS.append("django.contrib.postgres")
    # Django's backend with a health check that needs no round trip (tidbok/postgresql).
    DATABASES["default"]["ENGINE"] = "tidbok.postgresql"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASE_POOLER == "pgbouncer":
        # Transaction pooling (docs/deploy.md): each transaction may run on another server
        # connection, so nothing may live in a session. No prepared statements (a statement
        # prepared on one server connection is unknown on the next), no server-side cursors
        # (a named cursor ends with its transaction), and no libpq `options`: PgBouncer 1.18
        # refuses a startup parameter it does not know. lock_timeout is then the pooler's
        # `connect_query` on each server connection (deploy/pgbouncer.ini).
        _options.update(server_side_binding=False, prepare_threshold=None)
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        # Set when the connection opens (libpq's `options`), so it costs no statement; added to
        # any `options` the DATABASE_URL brings.
        _options["options"] = f"{_options.get('options', '')} -c lock_timeout={DB_LOCK_TIMEOUT_MS}".strip()
        # Server-side binding lets psycopg prepare a statement the fifth time a connection runs
        # it, so PostgreSQL stops planning the hot queries again on every request
        # (docs/performance.md).
        if envbool("DATABASE_SERVER_SIDE_BINDING", "true"):
            _options.update(server_side_binding=True, prepare_threshold=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "domain.User"

# A read replica (optional; tidbok/replica.py, docs/architecture.md "Read replica"): the public
# reads (listing, matching, profiles, open times) go to it while it lags at most
# REPLICA_MAX_LAG_SECONDS; whoever wrote reads from the primary for REPLICA_STICKY_SECONDS, so
# she always sees her own writes. Unset: no second database, no router, nothing changes.
REPLICA_MAX_LAG_SECONDS = envint("REPLICA_MAX_LAG_SECONDS", "5", minimum=0)
REPLICA_STICKY_SECONDS = envint("REPLICA_STICKY_SECONDS", "10", minimum=1)
# How long a process trusts its last look at the replica's lag (tidbok/replica.py); meanwhile
# the lag may grow, so a writer stays on the primary for the lag limit and this.
REPLICA_HEALTH_SECONDS = 2
if REPLICA_STICKY_SECONDS < REPLICA_MAX_LAG_SECONDS + REPLICA_HEALTH_SECONDS:
    raise ImproperlyConfigured(f"REPLICA_STICKY_SECONDS ({REPLICA_STICKY_SECONDS}) must be at least "
                               f"REPLICA_MAX_LAG_SECONDS ({REPLICA_MAX_LAG_SECONDS}) + {REPLICA_HEALTH_SECONDS}: "
                               "a writer must not read from a replica that may not have her write yet (its lag is "
                               f"looked at every {REPLICA_HEALTH_SECONDS} s).")
_replica_url = os.environ.get("DATABASE_REPLICA_URL", "").strip()
REPLICA_READS = bool(_replica_url)
if _replica_url:
    try:
        _replica = dj_database_url.parse(_replica_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
                                         conn_health_checks=True)
    except (ValueError, KeyError) as e:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL must be an address such as "
                                   f"postgres://user@replica:5432/name ({e}).") from None
    if not IS_POSTGRES or not _replica["ENGINE"].startswith("django.db.backends.postgresql"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs PostgreSQL, for it and for DATABASE_URL "
                                   "(a streaming replica of the primary).")
    if not _replica.get("NAME"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name the database (postgres://user@replica:5432/name).")
    _replica["ENGINE"] = DATABASES["default"]["ENGINE"]
    _replica_options = _replica.setdefault("OPTIONS", {})
    # Connected as the primary is: its lock timeout (as a libpq option where the primary has
    # one) and statement preparing. A replica that does not answer within two seconds is
    # skipped (the reads go to the primary), not waited for.
    if "options" in DATABASES["default"]["OPTIONS"]:
        _replica_options["options"] = f"{_replica_options.get('options', '')} -c lock_timeout={DB_LOCK_TIMEOUT_MS}".strip()
    for _key in ("server_side_binding", "prepare_threshold"):
        if _key in DATABASES["default"]["OPTIONS"]:
            _replica_options[_key] = DATABASES["default"]["OPTIONS"][_key]
    _replica_options.setdefault("connect_timeout", 2)
    # The test database on the primary is streamed to the replica under the same name.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["tidbok.replica.ReplicaRouter"]
    # After authentication (it marks the user who wrote), outside the middleware that answers
    # database errors, so it sees each answer's final status.
    MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                      "tidbok.replica.primary_after_writes")

# Django's cache: one per process unless CACHE_URL names a Redis that every web server shares
# (redis://host:6379/0). Behind a load balancer that makes a bearer-token user's read-your-writes
# mark (tidbok/replica.py) hold on every server, not only the one that took her write.
_cache_url = os.environ.get("CACHE_URL", "").strip()
if _cache_url:
    try:
        _cache_parts = urlsplit(_cache_url)
        _cache_parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:  # that, or an unclosed [IPv6 address]
        _cache_parts = None
    if _cache_parts is None or _cache_parts.scheme not in ("redis", "rediss", "unix") or not (
        _cache_parts.hostname or _cache_parts.path
    ):
        raise ImproperlyConfigured(f"CACHE_URL must be a Redis address such as redis://127.0.0.1:6379/0 "
                                   f"(it is {_cache_url!r}).")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url,
                          "KEY_PREFIX": "tidbok", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every password log-in, the admin's too, goes through Tidbok's throttle (domain/backends.py).
AUTHENTICATION_BACKENDS = ["domain.backends.EmailBackend", "django_otp_webauthn.backends.WebAuthnBackend"]
# Log-in throttling (R28), counted atomically before the password is checked: this many tries
# per account *and* source address within the window (a success starts again), and this many
# failures from one source address over all accounts; then 429 until the window has passed.
LOGIN_MAX_FAILURES = envint("LOGIN_MAX_FAILURES", "5", minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = envint("LOGIN_FAILURE_WINDOW_SECONDS", "900", minimum=1)
LOGIN_MAX_FAILURES_PER_SOURCE = envint("LOGIN_MAX_FAILURES_PER_SOURCE", "100", minimum=1)
# Sign-ups and password-reset requests from one source address per hour (R26): far above what
# a clinic behind one address ever sends, far below what enumerating people needs.
ACCOUNT_REQUESTS_PER_HOUR = envint("ACCOUNT_REQUESTS_PER_HOUR", "60", minimum=0)
# How many reverse proxies of ours stand in front of Tidbok (0: none; the source address is
# REMOTE_ADDR). With 1, the address a load balancer puts last in X-Forwarded-For is used.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0", minimum=0)
# How long a therapist's invitation to her own client works (R26), in days; how many
# invitations one therapist may send in a day (each is a mail in Tidbok's name).
INVITATION_MAX_AGE_DAYS = envint("INVITATION_MAX_AGE_DAYS", "30", minimum=1)
INVITATIONS_PER_THERAPIST_PER_DAY = envint("INVITATIONS_PER_THERAPIST_PER_DAY", "100", minimum=0)
# Hoarding: future bookings a client may make herself with one therapist (her therapist's
# bookings of her are not limited).
MAX_OPEN_BOOKINGS_PER_THERAPIST = envint("MAX_OPEN_BOOKINGS_PER_THERAPIST", "2", minimum=0)
# A bearer token that has not been used for this many days stops working (docs/security.md).
API_TOKEN_IDLE_DAYS = envint("API_TOKEN_IDLE_DAYS", "90", minimum=1)
# R41 retention (docs/privacy.md): personal data of bookings that ended this many years ago is
# erased by `manage.py erase_expired` (daily under `make run`). 10: Swedish patient records are
# kept at least ten years after the last entry (patientdatalagen 3 kap. 17 §).
RETENTION_YEARS = envint("RETENTION_YEARS", "10", minimum=1)
# The daily pruning: sent and failed mails, and finished background-task results, after this
# many days (their content is what the change or the recipient already has).
OUTBOX_KEEP_DAYS = envint("OUTBOX_KEEP_DAYS", "30", minimum=1)
TASK_RESULTS_KEEP_DAYS = envint("TASK_RESULTS_KEEP_DAYS", "7", minimum=1)

# The second factor (R42; docs/security.md, "Second factor"). Staff must have one before the
# admin (or anything else) opens; therapists must when THERAPISTS_REQUIRE_2FA is on; anyone may.
STAFF_REQUIRE_2FA = envbool("STAFF_REQUIRE_2FA", "false" if DEBUG else "true")
THERAPISTS_REQUIRE_2FA = envbool("THERAPISTS_REQUIRE_2FA", "false")
# R38: fetch busy calendars from private, loopback and link-local addresses too (tests, a
# calendar server on the practice's own network). Off: those are refused (SSRF).
BUSY_CALENDAR_ALLOW_PRIVATE = envbool("BUSY_CALENDAR_ALLOW_PRIVATE", "false")
# A therapist's or staff member's session ends after this many minutes without a request;
# clients keep Django's ordinary session (SESSION_COOKIE_AGE).
SESSION_IDLE_MINUTES = envint("SESSION_IDLE_MINUTES", "60", minimum=1)
# django-otp: the issuer an authenticator app shows beside the code; a code is good for the
# 30-second step it was made in and one step either side (a phone's clock may be a little off).
OTP_TOTP_ISSUER = "Tidbok"
OTP_TOTP_TOLERANCE = 1
# django-otp-webauthn (passkeys). A passkey is bound to a domain (the RP ID) and needs a secure
# context: https://, or http://localhost. So with an https SITE_URL passkeys belong to its host;
# otherwise (`make run`: SITE_URL http://127.0.0.1:8000) they work at http://localhost:PORT/,
# which is in ALLOWED_HOSTS too.
_site = urlsplit(SITE_URL)
if _site.scheme == "https":
    OTP_WEBAUTHN_RP_ID = (_site.hostname or "").lower()
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"https://{_site.netloc}"]
else:
    OTP_WEBAUTHN_RP_ID = "localhost"
    OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost" + (f":{_site.port}" if _site.port else "")]
OTP_WEBAUTHN_RP_NAME = "Tidbok"
# A passkey alone logs in (it is a second factor in itself: the device and its PIN or face).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "django_otp_webauthn"

# eID log-in (R27), optional: BankID/Freja through an OpenID Connect broker (tidbok/eid.py,
# docs/security.md "eID log-in"). Off while OIDC_ISSUER is empty: then there is no eID URL, no
# backend and no button. The broker's endpoints come from its discovery document.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip()
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_CLIENT_SECRET = envsecret("OIDC_CLIENT_SECRET") or ""
# Idura (formerly Criipto) gives a Swedish BankID's personnummer as `ssn` in the ID token;
# Signicat calls it `nin` (scope `nin`, in the userinfo answer).
OIDC_PERSONNUMMER_CLAIM = os.environ.get("OIDC_PERSONNUMMER_CLAIM", "ssn").strip()
OIDC_SCOPES = " ".join(os.environ.get("OIDC_SCOPES", "openid profile").split())
# Sent as acr_values when set: how a broker is told which eID to offer (Idura:
# urn:grn:authn:se:bankid, Signicat: idp:sbid).
OIDC_ACR_VALUES = " ".join(os.environ.get("OIDC_ACR_VALUES", "").split())
# Seconds to wait for the broker (discovery, keys, tokens) before the page says eID is unavailable.
OIDC_TIMEOUT = envint("OIDC_TIMEOUT", "10")
if OIDC_ISSUER:
    _issuer = urlsplit(OIDC_ISSUER)
    if _issuer.scheme != "https" and not (_issuer.scheme == "http" and _issuer.hostname in ("127.0.0.1", "localhost", "::1")):
        raise ImproperlyConfigured("OIDC_ISSUER must be an https:// address (plain http only on this machine, for tests).")
    if not OIDC_CLIENT_ID or not OIDC_CLIENT_SECRET:
        raise ImproperlyConfigured("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or _FILE) must be set too.")
    if not OIDC_PERSONNUMMER_CLAIM:
        raise ImproperlyConfigured("OIDC_PERSONNUMMER_CLAIM must name the claim that holds the personnummer.")
    if "openid" not in OIDC_SCOPES.split():
        raise ImproperlyConfigured('OIDC_SCOPES must include "openid".')
    if OIDC_TIMEOUT <= 0:
        raise ImproperlyConfigured("OIDC_TIMEOUT must be a positive number of seconds.")
    AUTHENTICATION_BACKENDS.append("tidbok.eid.EidBackend")
elif OIDC_CLIENT_ID or OIDC_CLIENT_SECRET or os.environ.get("OIDC_ACR_VALUES"):
    # A misspelt OIDC_ISSUER must stop the start, not quietly leave eID log-in off.
    raise ImproperlyConfigured("OIDC_CLIENT_ID / OIDC_CLIENT_SECRET are set but OIDC_ISSUER is empty.")

# Jitsi token authentication (R29), optional: with a secret (shared with prosody's
# `app_secret`) and an app id (prosody's `app_id`, the token's `iss`), every room address
# carries a JWT valid only inside the link's window (domain/video.py). Half a configuration,
# or a misspelt name, stops the start instead of quietly sending rooms without tokens.
VIDEO_JWT_SECRET = envsecret("VIDEO_JWT_SECRET") or ""
VIDEO_JWT_APP_ID = os.environ.get("VIDEO_JWT_APP_ID", "").strip()
VIDEO_JWT_AUDIENCE = os.environ.get("VIDEO_JWT_AUDIENCE", "").strip()
VIDEO_JWT_SUBJECT = os.environ.get("VIDEO_JWT_SUBJECT", "").strip()
VIDEO_JWT_MIN_SECRET_LENGTH = 32  # HS256 with a shorter shared secret can be guessed offline
_video = urlsplit(VIDEO_BASE_URL)
_on_this_machine = _video.hostname in ("127.0.0.1", "localhost", "::1")
if _video.scheme not in ("http", "https") or not _video.hostname:
    raise ImproperlyConfigured(f"VIDEO_BASE_URL must be an http(s):// address, e.g. https://meet.example.se/ "
                               f"(it is {VIDEO_BASE_URL!r}).")
if VIDEO_JWT_SECRET:
    if not VIDEO_JWT_APP_ID:
        raise ImproperlyConfigured("VIDEO_JWT_SECRET is set: VIDEO_JWT_APP_ID (prosody's app_id) must be set too.")
    if len(VIDEO_JWT_SECRET) < VIDEO_JWT_MIN_SECRET_LENGTH:
        raise ImproperlyConfigured(f"VIDEO_JWT_SECRET must be at least {VIDEO_JWT_MIN_SECRET_LENGTH} characters "
                                   "(e.g. `openssl rand -hex 32`).")
    if _video.scheme != "https" and not _on_this_machine:
        raise ImproperlyConfigured("With VIDEO_JWT_SECRET set, VIDEO_BASE_URL must be an https:// address: the "
                                   "token travels in the room's address.")
    # Prosody accepts any audience unless `asap_accepted_audiences` says otherwise; `sub` is
    # the domain (or tenant) of the rooms, checked when `enable_domain_verification` is on.
    VIDEO_JWT_AUDIENCE = VIDEO_JWT_AUDIENCE or "jitsi"
    VIDEO_JWT_SUBJECT = VIDEO_JWT_SUBJECT or _video.hostname.lower()
elif VIDEO_JWT_APP_ID or VIDEO_JWT_AUDIENCE or VIDEO_JWT_SUBJECT or os.environ.get("VIDEO_JWT_SECRET_FILE"):
    raise ImproperlyConfigured("VIDEO_JWT_APP_ID / VIDEO_JWT_AUDIENCE / VIDEO_JWT_SUBJECT (or VIDEO_JWT_SECRET_FILE) "
                               "are set but VIDEO_JWT_SECRET is empty.")

LANGUAGE_CODE = "sv"
LANGUAGE_COOKIE_NAME = "tidbok_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# npm packages served as our own static files (no CDN: R24, and the app works offline).
STATICFILES_DIRS = [
    ("vendor/fullcalendar", BASE_DIR / "node_modules" / "fullcalendar"),
    ("vendor/temporal-polyfill", BASE_DIR / "node_modules" / "temporal-polyfill"),
]
STATIC_ROOT = DATA_DIR / "static"  # made by collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Background work: Django's Tasks API, stored in the same database as the bookings so that a
# task enqueued inside a booking's transaction exists exactly when the booking does (R25).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# E-mail: SMTP when EMAIL_HOST is set, otherwise printed to the console.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Tidbok <noreply@tidbok.se>")
# Read (and so checked) whether or not EMAIL_HOST is set: a bad value is an error either way.
_smtp_options = {
    "host": os.environ.get("EMAIL_HOST", "").strip(),
    "port": envint("EMAIL_PORT", "25", minimum=1, maximum=65535),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": envsecret("EMAIL_HOST_PASSWORD") or "",
    "use_tls": envbool("EMAIL_USE_TLS", "false"),
    "timeout": envint("EMAIL_TIMEOUT", "10", minimum=1),
}
if _smtp_options["host"]:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": _smtp_options}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# How often a mail is tried before it is marked failed, and the first retry's delay; each
# later retry waits twice as long, capped at EMAIL_RETRY_MAX_DELAY seconds.
EMAIL_MAX_ATTEMPTS = envint("EMAIL_MAX_ATTEMPTS", "12", minimum=1)
EMAIL_RETRY_DELAY = envint("EMAIL_RETRY_DELAY", "10", minimum=0)
EMAIL_RETRY_MAX_DELAY = envint("EMAIL_RETRY_MAX_DELAY", "600", minimum=0)
# A mail a worker claimed but has not finished after this many seconds is taken for one whose
# worker died mid-send, and goes back to the queue (`tasks.requeue_stale_emails`). Longer than
# any send can take (EMAIL_TIMEOUT per step), or a slow send would go out twice.
EMAIL_STALE_CLAIM_SECONDS = envint("EMAIL_STALE_CLAIM_SECONDS", "600", minimum=1)

# Security headers. HTTPS-only cookie and redirect settings follow SITE_URL's scheme.
HTTPS = SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS and envbool("SECURE_SSL_REDIRECT", "true")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envchoice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

NINJA_PAGINATION_PER_PAGE = 100
