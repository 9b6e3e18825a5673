#!/bin/bash
# Boot a real systemd as PID 1 in fresh pid/mount/uts/ipc/net/cgroup namespaces, on an overlay
# of the host root (PLATFORM.md §2, "unshare recipe"). Needs root with CAP_SYS_ADMIN; no package.
#
#   boot.sh start UNIT_DIR TARGET [BOOT_WAIT [WORKDIR]]
#       Copy UNIT_DIR/* (files and drop-in folders) to the container's /etc/systemd/system/,
#       boot TARGET, wait up to BOOT_WAIT seconds (default 30) until the manager answers.
#       Prints WORKDIR=… and SDPID=… on stdout. Drive it with
#       `nsenter -t SDPID -a -r -w systemctl|journalctl …`. WORKDIR, if given, must be an
#       empty `mktemp -d /tmp/sdtest.XXXXXX` folder (a caller that makes it first can always
#       clean up, even when it loses track of this command). On failure it cleans up and exits 1.
#   boot.sh stop WORKDIR [STOP_WAIT]
#       `systemctl poweroff`, wait up to STOP_WAIT seconds (default 20) for the container to go,
#       then SIGKILL whatever is left in its cgroups, remove the cgroups and WORKDIR.
#       Safe to call more than once and after a failed start.
#   boot.sh run UNIT_DIR TARGET WAIT
#       For people: start, wait WAIT seconds, list the services, print the journal, stop.
#
# If a caller died without `stop` (e.g. pytest was killed with SIGKILL), clean up with
#   for w in /tmp/sdtest.*; do tests/systemd/boot.sh stop "$w"; done
#
# Host /tmp is bind-mounted at /mnt/host-tmp in the container: systemd-tmpfiles empties the
# container's /tmp (an overlay, so the host's /tmp is untouched), so put databases there.
# systemd logs to the journal (so `journalctl -u UNIT` shows "Scheduled restart job" etc.), and to
# WORKDIR/console.log (a pty from `script`) until journald is up; LOG_TARGET=console keeps all of
# its messages on the console instead.
set -euo pipefail

die() { echo "boot.sh: $*" >&2; exit 1; }

alive() {  # a process that exists and is not a zombie
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

descendants() {  # all descendant PIDs of $1, breadth first
  local queue=("$1") pid child
  while [ ${#queue[@]} -gt 0 ]; do
    pid=${queue[0]}; queue=("${queue[@]:1}")
    for child in $(pgrep -P "$pid" || true); do echo "$child"; queue+=("$child"); done
  done
}

start() {
  local unit_dir=$1 target=$2 boot_wait=${3:-30} w=${4:-}
  [ -d "$unit_dir" ] || die "no unit directory $unit_dir"
  [ "$(id -u)" = 0 ] || die "must run as root"
  if [ -z "$w" ]; then w=$(mktemp -d /tmp/sdtest.XXXXXX); fi
  case "$w" in /tmp/sdtest.*) ;; *) die "WORKDIR must be /tmp/sdtest.*: $w" ;; esac
  [ -d "$w" ] && [ -z "$(ls -A "$w")" ] || die "WORKDIR must be an empty folder: $w"
  local tag; tag=$(basename "$w")
  mkdir "$w/mnt" "$w/units"
  cp -r "$unit_dir"/. "$w/units/"
  cat > "$w/inner.sh" <<INNER
set -e
mount -t tmpfs -o size=1g tmpfs $w/mnt
mkdir $w/mnt/upper $w/mnt/work $w/mnt/root
mount -t overlay overlay -o lowerdir=/,upperdir=$w/mnt/upper,workdir=$w/mnt/work $w/mnt/root
R=$w/mnt/root
mount -t proc proc \$R/proc; mount -t sysfs sysfs \$R/sys
mount -t tmpfs -o mode=755 tmpfs \$R/dev
for d in null zero full random urandom tty; do touch \$R/dev/\$d; mount --bind /dev/\$d \$R/dev/\$d; done
mkdir \$R/dev/pts \$R/dev/shm; mount -t devpts -o newinstance,ptmxmode=0666 devpts \$R/dev/pts; ln -s pts/ptmx \$R/dev/ptmx
touch \$R/dev/console; mount --bind "\$(tty)" \$R/dev/console
mount -t tmpfs -o mode=755 tmpfs \$R/run
mkdir -p \$R/mnt/host-tmp; mount --bind /tmp \$R/mnt/host-tmp
cp -r $w/units/. \$R/etc/systemd/system/
exec chroot \$R /usr/bin/env -i container=unshare /lib/systemd/systemd --system --unit=$target --log-target=${LOG_TARGET:-journal} --show-status=no
INNER
  # Move this shell into a fresh sub-cgroup of every hierarchy (not cpuset) so that the
  # container's cgroups land below it and can be removed afterwards. Read the list once:
  # /proc/self/cgroup changes while we move.
  local cglines line ctrl path m d
  mapfile -t cglines < /proc/self/cgroup
  : > "$w/cgroups"
  for line in "${cglines[@]}"; do
    IFS=: read -r _ ctrl path <<< "$line"
    case "$ctrl" in
      "") m=unified ;;
      *name=systemd*) m=systemd ;;
      *cpuset*) continue ;;
      *) m=${ctrl%%,*} ;;
    esac
    d=/sys/fs/cgroup/$m${path%/}/$tag
    [ -d "$(dirname "$d")" ] || continue
    mkdir -p "$d"; echo "$d" >> "$w/cgroups"; echo $BASHPID > "$d/cgroup.procs"
  done
  setsid script -qfec "unshare --pid --fork --mount --uts --ipc --net --cgroup --propagation private bash $w/inner.sh" \
    "$w/console.log" < /dev/null > /dev/null 2>&1 &
  local script_pid=$!
  echo "$script_pid" > "$w/script.pid"
  while read -r d; do echo $BASHPID > "$(dirname "$d")/cgroup.procs"; done < "$w/cgroups"  # leave them
  local sdpid="" pid i
  for i in $(seq $((boot_wait * 10))); do
    for pid in $(descendants "$script_pid"); do
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then sdpid=$pid; break; fi
    done
    if [ -n "$sdpid" ] && nsenter -t "$sdpid" -a -r -w systemctl show -p Version --value > /dev/null 2>&1; then
      echo "$sdpid" > "$w/systemd.pid"
      echo "WORKDIR=$w"
      echo "SDPID=$sdpid"
      return 0
    fi
    alive "$script_pid" || break
    sleep 0.1
  done
  echo "boot.sh: systemd did not come up in ${boot_wait}s; console:" >&2
  cat "$w/console.log" >&2 2>/dev/null || true
  stop "$w" 5 >&2 || true
  exit 1
}

cgroup_pids() {  # every PID in the container's cgroups (any depth)
  local d
  [ -f "$1/cgroups" ] || return 0
  while read -r d; do
    [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done < "$1/cgroups" | sort -u
}

stop() {
  local w=$1 stop_wait=${2:-20} sdpid="" script_pid="" i pid d
  case "$w" in /tmp/sdtest.*) ;; *) die "not a boot.sh work directory: $w" ;; esac
  [ -d "$w" ] || return 0
  [ -f "$w/systemd.pid" ] && sdpid=$(cat "$w/systemd.pid")
  [ -f "$w/script.pid" ] && script_pid=$(cat "$w/script.pid")
  if [ -n "$sdpid" ] && alive "$sdpid"; then
    timeout 10 nsenter -t "$sdpid" -a -r -w systemctl poweroff > /dev/null 2>&1 || true
  fi
  for i in $(seq $((stop_wait * 10))); do
    { [ -n "$script_pid" ] && alive "$script_pid"; } || [ -n "$(cgroup_pids "$w")" ] || break
    sleep 0.1
  done
  # Whatever did not go: SIGKILL (PID 1 of the namespace first: that ends all of it).
  [ -n "$sdpid" ] && alive "$sdpid" && kill -KILL "$sdpid" 2> /dev/null || true
  [ -n "$script_pid" ] && alive "$script_pid" && kill -KILL "$script_pid" 2> /dev/null || true
  for i in $(seq 50); do
    pids=$(cgroup_pids "$w")
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2> /dev/null || true
    sleep 0.1
  done
  local left=0
  if [ -f "$w/cgroups" ]; then
    while read -r d; do
      for i in $(seq 30); do
        [ -d "$d" ] || break
        find "$d" -depth -type d -exec rmdir {} \; 2> /dev/null || true
        [ -d "$d" ] || break
        sleep 0.1
      done
      if [ -d "$d" ]; then echo "boot.sh: could not remove cgroup $d" >&2; left=1; fi
    done < "$w/cgroups"
  fi
  rm -rf "$w"
  return $left
}

case "${1:-}" in
  start) [ $# -ge 3 ] || die "usage: boot.sh start UNIT_DIR TARGET [BOOT_WAIT [WORKDIR]]"; start "$2" "$3" "${4:-30}" "${5:-}" ;;
  stop) [ $# -ge 2 ] || die "usage: boot.sh stop WORKDIR [STOP_WAIT]"; stop "$2" "${3:-20}" ;;
  run)
    [ $# -ge 4 ] || die "usage: boot.sh run UNIT_DIR TARGET WAIT"
    out=$(start "$2" "$3" 30); echo "$out"
    W=$(sed -n 's/^WORKDIR=//p' <<< "$out"); SDPID=$(sed -n 's/^SDPID=//p' <<< "$out")
    trap 'stop "$W" 20' EXIT
    sleep "$4"
    IN=(nsenter -t "$SDPID" -a -r -w)
    "${IN[@]}" systemctl --no-pager list-units --all --type=service || true
    "${IN[@]}" journalctl --no-pager -o short-precise || true
    ;;
  *) die "usage: boot.sh start|stop|run … (see the header)" ;;
esac
