#!/bin/bash
# Run STEPS (a bash file) next to a standalone systemd-journald, in private mount and PID
# namespaces (PLATFORM.md §2, "Other findings"): nothing reaches the host's journal, and when
# this script ends, or is killed, the namespace and its journald end with it.
#
#   journald.sh STEPS
#
# STEPS is sourced inside the namespace (cwd unchanged, environment inherited) and can use:
#   as_service IDENT CMD [ARGS…]   run CMD with stdout+stderr on a journal stream (systemd-cat
#                                  -t IDENT) and JOURNAL_STREAM=dev:inode of that stream, as
#                                  systemd sets it for a service; its exit code is returned
#   journal_sync                   wait until journald has stored everything sent so far
#   JOURNAL_DIR                    the journal files, for `journalctl -D "$JOURNAL_DIR" …`
# Must run as root (unshare needs CAP_SYS_ADMIN).
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: journald.sh STEPS" >&2; exit 2; }

if [ -z "${_JOURNALD_SH_INSIDE:-}" ]; then
  # --kill-child: if unshare is killed (a test timeout), its child, PID 1 of the new PID
  # namespace, is killed too, and the kernel then kills everything else in that namespace.
  exec env _JOURNALD_SH_INSIDE=1 unshare --mount --propagation private --pid --fork \
    --mount-proc --kill-child bash "$0" "$1"
fi
unset _JOURNALD_SH_INSIDE

mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/systemd/journal
JOURNAL_DIR=/run/log/journal
/lib/systemd/systemd-journald &
JOURNALD_PID=$!
trap 'kill "$JOURNALD_PID" 2> /dev/null || true; wait "$JOURNALD_PID" 2> /dev/null || true' EXIT
for _ in $(seq 100); do
  [ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/stdout ] && break
  sleep 0.05
done
[ -S /run/systemd/journal/stdout ] || { echo "journald.sh: journald did not start" >&2; exit 1; }

as_service() {
  local ident=$1; shift
  # stat's %d (device, decimal) and %i (inode) of fd 2 are what os.fstat() gives as
  # st_dev:st_ino, the format of systemd's JOURNAL_STREAM. systemd-cat itself does not set it.
  systemd-cat -t "$ident" sh -c \
    'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) && export JOURNAL_STREAM && exec "$@"' \
    sh "$@"
}

journal_sync() {
  journalctl --sync
}

# shellcheck source=/dev/null
source "$1"
