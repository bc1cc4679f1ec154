#!/usr/bin/env bash
# Doorstep nightly backup / 每晚备份: database first, then photos (see GUIDE.md §6).
#   - PostgreSQL: pg_dump -Fc into $BACKUP_DIR/db/doorstep-YYYYmmdd-HHMMSS.dump, kept $BACKUP_KEEP_DAYS days
#   - SQLite (trial installs): consistent copy via Python's sqlite3 backup API
#   - Photos: rsync of DATA_DIR/media into $BACKUP_DIR/media (incremental mirror; files are
#     content-addressed and never change, so the mirror only grows and is never pruned)
# Settings (environment): ENV_FILE (/etc/doorstep/doorstep.env), BACKUP_DIR (/var/backups/doorstep),
#   BACKUP_KEEP_DAYS (14).
set -euo pipefail
umask 077

ENV_FILE=${ENV_FILE:-/etc/doorstep/doorstep.env}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/doorstep}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}

log() { printf '%s doorstep-backup: %s\n' "$(date -Is)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

[[ $BACKUP_KEEP_DAYS =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a number"

# Read KEY=VALUE lines of the env file without executing it.
[[ -r $ENV_FILE ]] || die "cannot read $ENV_FILE"
while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
    if [[ $val =~ ^\"(.*)\"$ || $val =~ ^\'(.*)\'$ ]]; then val=${BASH_REMATCH[1]}; fi
    export "$key=$val"
done < "$ENV_FILE"

DATA_DIR=${DOORSTEP_DATA_DIR:-/var/lib/doorstep}
DB_URL=${DOORSTEP_DATABASE_URL:-}
[[ -n $DB_URL ]] || die "DOORSTEP_DATABASE_URL is not set in $ENV_FILE"

# One run at a time.
mkdir -p "$BACKUP_DIR/db" "$BACKUP_DIR/media"
exec 9>"$BACKUP_DIR/.lock"
flock -n 9 || die "another backup is running"

stamp=$(date +%Y%m%d-%H%M%S)

# ---- 1. Database FIRST ------------------------------------------------------
case $DB_URL in
    postgres://*|postgresql://*|asyncpg://*|psycopg://*)
        command -v pg_dump >/dev/null || die "pg_dump not found (apt-get install postgresql-client)"
        # Hand the URL to libpq through PG* variables: the password never shows in `ps`,
        # and Tortoise-only query options (?minsize=…) are dropped.
        eval "$(python3 - "$DB_URL" <<'PY'
import shlex, sys
from urllib.parse import urlsplit, unquote
u = urlsplit(sys.argv[1])
env = {"PGHOST": u.hostname or "127.0.0.1", "PGPORT": str(u.port or 5432),
       "PGUSER": unquote(u.username or ""), "PGPASSWORD": unquote(u.password or ""),
       "PGDATABASE": unquote(u.path.lstrip("/"))}
for k, v in env.items():
    print(f"export {k}={shlex.quote(v)}")
PY
)"
        out="$BACKUP_DIR/db/doorstep-$stamp.dump"
        log "dumping PostgreSQL database $PGDATABASE@$PGHOST:$PGPORT"
        pg_dump --format=custom --compress=6 --no-password --file="$out.partial"
        pg_restore --list "$out.partial" >/dev/null || die "dump $out.partial is not readable"
        mv "$out.partial" "$out"
        ;;
    sqlite://*)
        db_path=${DB_URL#sqlite://}
        db_path=${db_path%%\?*}
        [[ $db_path == /* ]] || db_path="$DATA_DIR/$db_path"
        out="$BACKUP_DIR/db/doorstep-$stamp.sqlite3"
        log "copying SQLite database $db_path"
        python3 - "$db_path" "$out.partial" <<'PY'
import sqlite3, sys
src = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close(); src.close()
PY
        mv "$out.partial" "$out"
        ;;
    *) die "unsupported DOORSTEP_DATABASE_URL scheme: ${DB_URL%%://*}" ;;
esac
log "database saved to $out ($(du -h "$out" | cut -f1))"

# ---- 2. Photos SECOND -------------------------------------------------------
# Every photo the dump refers to was stored before the dump was taken, so it is
# in this copy. No --delete: stored photos never change and are never removed.
if [[ -d $DATA_DIR/media ]]; then
    command -v rsync >/dev/null || die "rsync not found (apt-get install rsync)"
    log "copying photos from $DATA_DIR/media"
    rsync -a --exclude='*.tmp' --exclude='*.part' --exclude='/tmp/' "$DATA_DIR/media/" "$BACKUP_DIR/media/"
    log "photos saved to $BACKUP_DIR/media ($(du -sh "$BACKUP_DIR/media" | cut -f1))"
else
    log "no $DATA_DIR/media yet, skipping photos"
fi

# ---- 3. Retention -----------------------------------------------------------
find "$BACKUP_DIR/db" -maxdepth 1 -type f \( -name 'doorstep-*.dump' -o -name 'doorstep-*.sqlite3' -o -name '*.partial' \) \
    -mtime +"$BACKUP_KEEP_DAYS" -print -delete | sed 's/^/removed old backup: /'
log "done"
