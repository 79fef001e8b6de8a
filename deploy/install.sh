#!/bin/sh
# Installs tenderwatch as a service on a Linux machine with systemd or cron (Debian, Ubuntu, RHEL),
# from this checkout. Run as root; run it again after `git pull` to upgrade (it is idempotent: an
# existing config and secrets file are kept, users and folders are made only when missing).
#
#   sudo deploy/install.sh --daemon      the systemd unit (tenderwatch daemon), enabled
#   sudo deploy/install.sh --cron        an hourly `tenderwatch run` in /etc/cron.d/tenderwatch
#
# What it makes:
#   user and group tenderwatch (system, no login), home /var/lib/tenderwatch
#   /opt/tenderwatch/.venv               a virtualenv with this checkout installed (root-owned)
#   /opt/tenderwatch/bin/with-secrets    runs tenderwatch with the secrets in its environment (cron)
#   /etc/tenderwatch/tenderwatch.toml    from tenderwatch.example.toml if absent; root:tenderwatch 640
#   /etc/tenderwatch/secrets.env         SMTP password, webhook URLs (NAME=value); tenderwatch 600
#   /var/lib/tenderwatch                 the SQLite store and digest files (data_dir); tenderwatch 700
#   /var/log/tenderwatch                 the cron jobs' logs; tenderwatch 750
#   /etc/logrotate.d/tenderwatch         weekly rotation of those logs (deploy/logrotate)
#   /etc/systemd/system/tenderwatch.service or /etc/cron.d/tenderwatch
# and creates or upgrades the store (tenderwatch db upgrade, as the tenderwatch user).
set -eu
umask 022  # the code and folders readable as their modes say, whatever root's umask

usage() {
  cat <<'EOF'
usage: deploy/install.sh (--daemon | --cron) [--prefix DIR] [--user NAME] [--python PYTHON] [--dry-run]

  --daemon         install and enable the systemd unit (tenderwatch daemon)
  --cron           install /etc/cron.d/tenderwatch (tenderwatch run, hourly) instead
  --prefix DIR     install under DIR instead of / (a test or a staging root); the paths written in
                   the installed files point under DIR too, so that install runs as it is; the
                   system user is still created on this machine, and systemd is not told
  --user NAME      the system user and group to run as (default: tenderwatch)
  --python PYTHON  the Python 3.11+ to build the virtualenv with (default: python3)
  --dry-run        say what it would do, change nothing (root not needed)
  -h, --help       this help
EOF
}

fail() {  # $1: exit code (2 usage or this machine, 1 a step failed), then the message
  code="$1"
  shift
  echo "install.sh: $*" >&2
  exit "$code"
}

MODE=""
PREFIX=""
RUN_AS="tenderwatch"
PYTHON="python3"
DRY_RUN=false
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon | --cron)
      [ -z "$MODE" ] || [ "$MODE" = "${1#--}" ] || fail 2 "give --daemon or --cron, not both"
      MODE="${1#--}" ;;
    --prefix | --user | --python)
      [ $# -ge 2 ] || fail 2 "$1 needs a value (see --help)"
      case "$1" in
        --prefix) PREFIX="$2" ;;
        --user) RUN_AS="$2" ;;
        --python) PYTHON="$2" ;;
      esac
      shift ;;
    --prefix=*) PREFIX="${1#*=}" ;;
    --user=*) RUN_AS="${1#*=}" ;;
    --python=*) PYTHON="${1#*=}" ;;
    --dry-run) DRY_RUN=true ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; fail 2 "unknown option '$1'" ;;
  esac
  shift
done

[ -n "$MODE" ] || { usage >&2; fail 2 "choose how it runs: --daemon (systemd) or --cron"; }
case "$RUN_AS" in
  '' | [!a-z_]* | *[!a-z0-9_-]*) fail 2 "--user '$RUN_AS': a user name is lower-case letters, digits, _ or -" ;;
esac
if [ -n "$PREFIX" ]; then
  case "$PREFIX" in
    /*) ;;
    *) fail 2 "--prefix '$PREFIX' must be an absolute path" ;;
  esac
  case "$PREFIX" in *[!A-Za-z0-9/._-]*) fail 2 "--prefix '$PREFIX': use letters, digits, / . _ - only" ;; esac
  PREFIX="${PREFIX%/}"
fi

CHECKOUT="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$CHECKOUT/pyproject.toml" ] && [ -f "$CHECKOUT/tenderwatch.example.toml" ] \
  || fail 2 "run it from a tenderwatch checkout ($CHECKOUT has no pyproject.toml)"
if ! $DRY_RUN && [ "$(id -u)" != 0 ]; then
  fail 2 "run it as root (sudo deploy/install.sh --$MODE), or add --dry-run to see what it would do"
fi
command -v "$PYTHON" >/dev/null 2>&1 || fail 2 "no '$PYTHON' here: install Python 3.11 or newer, or give --python"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail 2 "$PYTHON is Python $("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); tenderwatch needs 3.11 or newer: give --python"
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null \
  || fail 2 "$PYTHON cannot make a virtualenv: install its venv module (Debian: apt-get install python3-venv)"
for tool in useradd install; do
  command -v "$tool" >/dev/null 2>&1 || fail 2 "'$tool' is missing: install it (Debian: passwd, coreutils)"
done

# Where things go (under the prefix), and the same paths as the installed files name them.
OPT="/opt/tenderwatch"
ETC="/etc/tenderwatch"
DATA="/var/lib/tenderwatch"
LOGS="/var/log/tenderwatch"
VENV="$OPT/.venv"

say() { echo "install.sh: $*"; }

step() {  # a command, or (--dry-run) what it would be
  if $DRY_RUN; then
    echo "would run: $*"
  else
    "$@"
  fi
}

make_dir() {  # path owner:group mode [system]; a system folder (/etc/cron.d) that exists is left alone
  if [ "${4:-}" = system ] && [ -d "$PREFIX$1" ]; then
    return
  fi
  if $DRY_RUN; then
    [ -d "$PREFIX$1" ] || echo "would create $PREFIX$1 ($2, $3)"
    return
  fi
  install -d -o "${2%%:*}" -g "${2#*:}" -m "$3" "$PREFIX$1"
  chown "$2" "$PREFIX$1" && chmod "$3" "$PREFIX$1"  # tenderwatch's own folders, existing ones too
}

# A deploy file as installed: paths moved under the prefix, the user renamed.
localised() {
  sed -e "s|/opt/tenderwatch|$PREFIX$OPT|g" \
    -e "s|/etc/tenderwatch|$PREFIX$ETC|g" \
    -e "s|/var/lib/tenderwatch|$PREFIX$DATA|g" \
    -e "s|/var/log/tenderwatch|$PREFIX$LOGS|g" \
    -e "s|^User=tenderwatch\$|User=$RUN_AS|" \
    -e "s|^Group=tenderwatch\$|Group=$RUN_AS|" \
    -e "s|^\( *su\) tenderwatch tenderwatch\$|\1 $RUN_AS $RUN_AS|" \
    -e "s|^\( *create [0-7]*\) tenderwatch tenderwatch\$|\1 $RUN_AS $RUN_AS|" \
    "$1"
}

put_file() {  # path owner:group mode, the content on stdin; replaced whole (never half-written)
  if $DRY_RUN; then
    cat >/dev/null
    echo "would write $PREFIX$1 ($2, $3)"
    return
  fi
  part="$PREFIX$1.part"
  (umask 077 && cat >"$part")  # never readable by others, not even before its chmod
  chown "$2" "$part" && chmod "$3" "$part" && mv -f "$part" "$PREFIX$1"
}

# 1. The user: a system account with no login, its home the data folder.
if id -u "$RUN_AS" >/dev/null 2>&1; then
  say "user $RUN_AS exists"
else
  step useradd --system --user-group --home-dir "$PREFIX$DATA" --no-create-home \
    --shell /usr/sbin/nologin --comment "tenderwatch tender monitor" "$RUN_AS"
fi
OWNER="$RUN_AS:$RUN_AS"

# 2. Folders: the code is root's; the data and logs the user's; the config readable by its group.
GROUP_OWNED="root:${OWNER#*:}"
make_dir "$OPT" root:root 0755
make_dir "$OPT/bin" root:root 0755
make_dir "$ETC" "$GROUP_OWNED" 0750
make_dir "$DATA" "$OWNER" 0700
make_dir "$LOGS" "$OWNER" 0750

# 3. The virtualenv with this checkout (an upgrade reinstalls it; its dependencies stay if current).
if [ ! -x "$PREFIX$VENV/bin/python" ]; then
  step "$PYTHON" -m venv "$PREFIX$VENV"
fi
say "installing tenderwatch from $CHECKOUT into $PREFIX$VENV (pip) ..."
step "$PREFIX$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$CHECKOUT" \
  || fail 1 "pip could not install tenderwatch into $PREFIX$VENV: see its lines above (network, proxy?)"
localised "$CHECKOUT/deploy/with-secrets" | put_file "$OPT/bin/with-secrets" root:root 0755

# 4. The config and the secrets file, only when absent: they are the operator's from then on.
if [ -e "$PREFIX$ETC/tenderwatch.toml" ]; then
  say "$PREFIX$ETC/tenderwatch.toml exists: kept as it is"
else
  sed -e "s|^# data_dir = .*|data_dir = \"$PREFIX$DATA\"|" \
    -e "1s|^.*\$|# tenderwatch configuration, installed by deploy/install.sh from tenderwatch.example.toml.|" \
    "$CHECKOUT/tenderwatch.example.toml" | put_file "$ETC/tenderwatch.toml" "$GROUP_OWNED" 0640
fi
if [ -e "$PREFIX$ETC/secrets.env" ]; then
  say "$PREFIX$ETC/secrets.env exists: kept (its mode set to 600 again)"
  step chown "$OWNER" "$PREFIX$ETC/secrets.env"
  step chmod 0600 "$PREFIX$ETC/secrets.env"
else
  put_file "$ETC/secrets.env" "$OWNER" 0600 <<'EOF'
# Secrets for tenderwatch: the systemd unit's EnvironmentFile and what bin/with-secrets reads for cron.
# One NAME=value per line (no quotes needed, no spaces around =). tenderwatch.toml refers to each as
# ${NAME}, e.g. url = "mailtos://tenders:${SMTP_PASSWORD}@smtp.example.org?to=bids@example.org"
# Readable by the tenderwatch user alone (mode 600); never commit or mail this file.
#SMTP_PASSWORD=
#TEAMS_WORKFLOW_URL=
EOF
fi

# 5. Log rotation for the cron jobs' logs.
make_dir /etc/logrotate.d root:root 0755 system
localised "$CHECKOUT/deploy/logrotate" | put_file /etc/logrotate.d/tenderwatch root:root 0644

# 6. How it runs.
if [ "$MODE" = daemon ]; then
  make_dir /etc/systemd/system root:root 0755 system
  localised "$CHECKOUT/deploy/tenderwatch.service" | put_file /etc/systemd/system/tenderwatch.service root:root 0644
  if [ -z "$PREFIX" ] && [ -d /run/systemd/system ]; then
    step systemctl daemon-reload
    step systemctl enable tenderwatch.service
  else
    say "systemd is not running here (or --prefix): enable it later with systemctl enable --now tenderwatch"
  fi
else
  make_dir /etc/cron.d root:root 0755 system
  # crontab.example's lines, with the user field /etc/cron.d needs after the five time fields.
  localised "$CHECKOUT/deploy/crontab.example" | awk -v user="$RUN_AS" '
    /^[0-9*@]/ {
      rest = $0; head = ""
      for (i = 0; i < 5; i++) { match(rest, /^[^ \t]+[ \t]+/); head = head substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1) }
      print head user "  " rest; next
    }
    { print }' | put_file /etc/cron.d/tenderwatch root:root 0644
fi

# 7. The store, created or upgraded as the user (so that it owns the SQLite file).
if command -v runuser >/dev/null 2>&1; then
  step runuser -u "$RUN_AS" -- "$PREFIX$OPT/bin/with-secrets" db upgrade \
    || fail 1 "the store could not be created or upgraded: see the line above, then run install.sh again"
else
  say "runuser is missing: run '$PREFIX$OPT/bin/with-secrets db upgrade' as $RUN_AS yourself"
fi

# 8. An upgrade: a daemon already running would go on with the old code beside the new store and
# crawls; it restarts now, after the store's upgrade (try-restart starts nothing that was stopped).
if [ "$MODE" = daemon ] && [ -z "$PREFIX" ] && [ -d /run/systemd/system ]; then
  step systemctl try-restart tenderwatch.service
fi

$DRY_RUN && exit 0
say "installed. Next: put the channels' secrets in $PREFIX$ETC/secrets.env, the channels in"
say "$PREFIX$ETC/tenderwatch.toml, then check with: runuser -u $RUN_AS -- $PREFIX$OPT/bin/with-secrets status"
