#!/usr/bin/env bash
# Bring up a real one-node SLURM cluster (slurmctld + slurmd + munged) on this
# machine, without systemd. Idempotent: if the cluster is already up, says so.
#
#   sudo scripts/local_slurm.sh          # start (installs slurm-wlm + munge if missing)
#   sudo scripts/local_slurm.sh --stop   # stop slurmctld, slurmd and munged
#
# Env: GAN_ZOO_SLURM_DIR (default /var/lib/gan_zoo_slurm) holds state, spool,
# pid files and logs (slurmctld.log, slurmd.log, munged.log).
set -euo pipefail

SLURM_DIR=${GAN_ZOO_SLURM_DIR:-/var/lib/gan_zoo_slurm}
CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)
STARTED=0  # set when this run had to (re)start or reconfigure anything

log() { echo "[local_slurm] $*"; }
die() { log "ERROR: $*" >&2; exit 1; }

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0"
}

# pid files can be stale after a container restart: trust a pid only if its name matches
pid_of() {  # pid_of NAME PIDFILE -> prints the live pid, fails otherwise
    local pid
    pid=$(cat "$2" 2>/dev/null) && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] && echo "$pid"
}

kill_pidfile() {  # kill_pidfile NAME PIDFILE
    local pid
    if pid=$(pid_of "$1" "$2"); then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        log "stopped $1 (pid $pid)"
    fi
    rm -f "$2"
}

stop() {
    kill_pidfile slurmd "$SLURM_DIR/slurmd.pid"
    kill_pidfile slurmctld "$SLURM_DIR/slurmctld.pid"
    kill_pidfile munged /run/munge/munged.pid
}

munge_ok() { { munge -n </dev/null | unmunge; } >/dev/null 2>&1; }

node_state() { sinfo -h -n "$HOST" -o %t 2>/dev/null | head -1; }

fail() {  # fail MESSAGE: show log tails so the cause is visible, then exit 1
    local f
    for f in "$SLURM_DIR"/{munged,slurmctld,slurmd}.log; do
        # munged logs a harmless "Unauthorized credential" line for every job launch
        [[ -f $f ]] && { echo "---- tail $f"; grep -v 'Unauthorized credential' "$f" | tail -n 15; }
    done >&2
    die "$1"
}

case ${1:-} in
    -h|--help) usage; exit 0 ;;
    --stop) stop; exit 0 ;;
    "") ;;
    *) usage >&2; exit 2 ;;
esac

[[ $(id -u) -eq 0 ]] || die "must run as root (slurmd and munged need it)"

# --- packages -----------------------------------------------------------------
apt_busy() { command -v pgrep >/dev/null && { pgrep -x apt-get || pgrep -x dpkg; } >/dev/null; }
while apt_busy; do
    log "waiting for a running apt-get/dpkg to finish"; sleep 5
done
if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q slurm-wlm munge
fi

# --- hostname must resolve, slurmd contacts slurmctld by it -----------------------
getent hosts "$HOST" >/dev/null || echo "127.0.0.1 $HOST" >> /etc/hosts

# --- munge --------------------------------------------------------------------
install -d -m 755 "$SLURM_DIR" "$SLURM_DIR/state" "$SLURM_DIR/spool"
install -d -o munge -g munge -m 700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
if ! munge_ok; then
    log "starting munged"
    STARTED=1
    install -o munge -g munge -m 644 /dev/null "$SLURM_DIR/munged.log"
    # munged refuses to run as root; run it as its own user like the init script
    runuser -u munge -- /usr/sbin/munged --log-file="$SLURM_DIR/munged.log" \
        || fail "munged failed to start"
    munge_ok || fail "munge credential round-trip failed"
fi

# --- slurm.conf ---------------------------------------------------------------
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
NEW_CONF=$(cat <<EOF
# Written by gan_zoo scripts/local_slurm.sh -- one-node cluster on $HOST
ClusterName=gan_zoo
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
# batch jobs requeueable by default ('scontrol requeue', submitit); also the built-in default
JobRequeue=1
# a requeued job waits cred_expire s before it may start again (default 120)
AuthInfo=cred_expire=10
# ...and for the next periodic scheduling pass (default every 60 s)
SchedulerParameters=sched_interval=5
# bring the node back by itself after a restart instead of leaving it DOWN
ReturnToService=2
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
)
if [[ ! -f $CONF ]] || [[ "$(cat "$CONF")" != "$NEW_CONF" ]]; then
    log "writing $CONF"
    STARTED=1
    install -d -m 755 /etc/slurm
    printf '%s\n' "$NEW_CONF" > "$CONF"
    # daemons only read the config at start-up
    kill_pidfile slurmd "$SLURM_DIR/slurmd.pid"
    kill_pidfile slurmctld "$SLURM_DIR/slurmctld.pid"
fi

# --- daemons ------------------------------------------------------------------
if ! pid_of slurmctld "$SLURM_DIR/slurmctld.pid" >/dev/null; then
    log "starting slurmctld"
    STARTED=1
    slurmctld || fail "slurmctld failed to start"
fi
if ! pid_of slurmd "$SLURM_DIR/slurmd.pid" >/dev/null; then
    log "starting slurmd"
    STARTED=1
    slurmd || fail "slurmd failed to start"
fi

# --- wait for the node ----------------------------------------------------------
state="" resumed=""
for _ in $(seq 60); do
    state=$(node_state)
    case $state in
        idle|mix|alloc|comp) break ;;
        down*|drain*|drng*|fail*)
            [[ $resumed ]] || log "node is '$state', resuming"
            resumed=1
            scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
done
case $state in idle|mix|alloc|comp) ;; *)
    fail "node $HOST not up after 60 s (state '${state:-?}' $(sinfo -h -n "$HOST" -o %E 2>/dev/null))" ;;
esac

summary="node $HOST ($CPUS CPUs, ${MEM_MB} MB), partition debug, logs in $SLURM_DIR"
if [[ $STARTED == 0 ]]; then
    log "already up: SLURM $(sinfo -V | awk '{print $2}'), $summary, state $state"
    exit 0
fi

# --- smoke test -----------------------------------------------------------------
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 60 sbatch --quiet --wait --time=1 -o "$out" --wrap 'echo ok' \
    || fail "smoke-test job did not complete"
[[ $(cat "$out") == ok ]] || fail "smoke-test job output was '$(cat "$out")'"

log "up: SLURM $(sinfo -V | awk '{print $2}'), $summary, smoke-test job ok"
