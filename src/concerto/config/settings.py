"""The one settings module. Every setting comes from the environment (or `.env`).

Copy `dotenv-sample` to `.env` to change anything locally. A required variable that is
missing fails loudly, with a hint, rather than falling back to something unsafe.
"""

from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from environs import Env

env = Env()
env.read_env()  # reads .env from the working directory upwards, if there is one

SRC_DIR = Path(__file__).resolve().parent.parent  # src/concerto
BASE_DIR = SRC_DIR.parent.parent  # the checkout
DATA_DIR = env.path("CONCERTO_DATA_DIR", BASE_DIR / "data")

DEBUG = env.bool("DEBUG", False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", "insecure-development-key-never-use-in-production")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except Exception as exc:  # environs raises EnvError; re-raise with a hint
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment or .env "
            "(see dotenv-sample), or set DEBUG=true for local development."
        ) from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "concerto.config.apps.ConcertoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "concerto.core",
    "concerto.organisations",
    "concerto.people",
    "concerto.access",
    "concerto.records",
    "concerto.notifications",
    "concerto.register",
    "concerto.referrals",
    "concerto.careplans",
    "concerto.outcomes",
    "concerto.directory",
    "concerto.portal",
    "concerto.analytics",
    "concerto.api",
    "concerto.synthetic",
    "concerto.web",
    # Django Ninja's own templates and static files: the API docs page loads Swagger UI from here, not a CDN.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "concerto.access.middleware.MembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "concerto.config.urls"
WSGI_APPLICATION = "concerto.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "concerto.access.context_processors.acting_as",
            ],
        },
    },
]

# Database: SQLite (WAL) in the data folder by default; DATABASE_URL selects PostgreSQL.
DATA_DIR.mkdir(parents=True, exist_ok=True)
_default_sqlite = f"sqlite:///{DATA_DIR / 'concerto.sqlite3'}"
DATABASES = {"default": env.dj_db_url("DATABASE_URL", _default_sqlite)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers carry on while one writer writes; IMMEDIATE avoids lock-upgrade deadlocks.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "choose-membership"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STATICFILES_DIRS = [SRC_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Hashed file names (long cache lifetimes) need `collectstatic`; development and tests skip it.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", not DEBUG)
if not STATIC_MANIFEST:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# Security: secure cookies and HSTS whenever we are not in development.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 8 * 60 * 60)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# The patient portal: a shorter session, and one-time sign-in links that expire quickly (docs/portal.md).
PORTAL_SESSION_SECONDS = env.int("PORTAL_SESSION_SECONDS", 30 * 60)
PORTAL_LINK_MINUTES = env.int("PORTAL_LINK_MINUTES", 15)
PORTAL_LINKS_PER_HOUR = env.int("PORTAL_LINKS_PER_HOUR", 3)
PORTAL_LINKS_PER_DAY = env.int("PORTAL_LINKS_PER_DAY", 6)
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only behind a proxy that sets X-Forwarded-Proto (and strips it from clients) may this be trusted.
if env.bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    # Patient data must never reach logs: we log identifiers of audit rows, never NHS numbers.
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Notifications ---
# Letters, SMS and email to patients (recall invitations); see docs/notifications.md.
# "console" prints messages instead of sending them (development); "notify" sends through GOV.UK Notify.
NOTIFICATIONS_BACKEND = env.str("NOTIFICATIONS_BACKEND", "console")
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY", "")  # required for "notify"; checked when the backend is built
NOTIFY_BASE_URL = env.str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# Our template keys → Notify template ids, as key=uuid pairs separated by commas:
# NOTIFY_TEMPLATES=phc_invitation=<uuid>,phc_reminder=<uuid>
NOTIFY_TEMPLATES: dict[str, str] = env.dict("NOTIFY_TEMPLATES", {})

# --- Outcomes (docs/outcomes.md) ---
# A site's own questionnaire definitions (JSON): licensed wording (ReQoL, SWEMWBS …) stays out of the repository.
QUESTIONNAIRE_DIR = env.path("CONCERTO_QUESTIONNAIRE_DIR", DATA_DIR / "questionnaires")
# What a patient whose answer signals risk is shown: paragraphs separated by "|". Empty: the national numbers.
CRISIS_TEXT = env.str("CONCERTO_CRISIS_TEXT", "")
