#!/usr/bin/env bash
# Doorstep nightly backup / 每晚备份: database first, then photos (see GUIDE.md §6).
#   - `doorstep backup` into $BACKUP_DIR/db/doorstep-YYYYmmdd-HHMMSS/ (database.dump or database.sqlite3,
#     manifest.json), kept $BACKUP_KEEP_DAYS days
#   - the photos those copies record into $BACKUP_DIR/photos (shared, only grows; local store or bucket alike)
# Restore and the restore drill: deploy/RESTORE.md.
# Settings (environment): ENV_FILE (/etc/doorstep/doorstep.env), BACKUP_DIR (/var/backups/doorstep),
#   BACKUP_KEEP_DAYS (14), DOORSTEP (/opt/doorstep/bin/doorstep).
set -euo pipefail
umask 077

ENV_FILE=${ENV_FILE:-/etc/doorstep/doorstep.env}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/doorstep}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
DOORSTEP=${DOORSTEP:-/opt/doorstep/bin/doorstep}

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

[[ -n ${DOORSTEP_DATABASE_URL:-} ]] || die "DOORSTEP_DATABASE_URL is not set in $ENV_FILE"
[[ -x $DOORSTEP ]] || die "cannot run $DOORSTEP"

# One run at a time.
mkdir -p "$BACKUP_DIR/db" "$BACKUP_DIR/photos"
exec 9>"$BACKUP_DIR/.lock"
flock -n 9 || die "another backup is running"

stamp=$(date +%Y%m%d-%H%M%S)

# ---- Database FIRST, then the photos it records -----------------------------
# `doorstep backup` copies the database (PostgreSQL: pg_dump on a snapshot; SQLite: the online backup API) with a
# manifest of that copy's rows and photos, then copies those photos out of the store (local folder or bucket)
# through the store interface, checking each against its hash. The photo folder is shared by every backup: a photo
# already there is not copied again (photos are named by their hash and never change), nothing is ever pruned
# from it, so any of the kept database copies can be restored with it.
out="$BACKUP_DIR/db/doorstep-$stamp"
log "backing up to $out (photos into $BACKUP_DIR/photos)"
"$DOORSTEP" backup "$out" --photos "$BACKUP_DIR/photos" || { rm -rf "$out"; die "doorstep backup failed"; }
log "saved $out ($(du -sh "$out" | cut -f1)); photos $(du -sh "$BACKUP_DIR/photos" | cut -f1)"

# ---- Retention --------------------------------------------------------------
find "$BACKUP_DIR/db" -mindepth 1 -maxdepth 1 -name 'doorstep-*' -mtime +"$BACKUP_KEEP_DAYS" -print \
    -exec rm -rf {} + | sed 's/^/removed old backup: /'
log "done"
