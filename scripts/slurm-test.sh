#!/usr/bin/env bash
# Real Slurm end-to-end test of `flatsim sweep --slurm` and `flatsim sweep-merge`.
#
# Installs Debian's slurm-wlm and munge (apt-get, as root), starts a
# single-node cluster on this host (munged, slurmctld, slurmd, all with a
# private config, key, socket, state and logs under one temporary
# directory), then:
#   1. runs a 12-point GEMM sweep locally with `flatsim sweep`;
#   2. submits the same sweep as a 4-task job array (`--slurm --submit`),
#      deletes the original sweep files (the study must be self-contained),
#      waits for the array, merges, and compares summary.csv byte for byte;
#   3. deletes one shard's results, checks that sweep-merge reports the gap,
#      resubmits with `--only-missing` (only that task must run), merges
#      again and compares again.
# Every process it starts is stopped on exit (trap), and the temporary
# directory removed (KEEP_SLURM_TEST_DIR=1 keeps it for debugging).
#
# Environment:
#   FLATSIM_BIN         use this flatsim binary instead of `cargo build --release -p cli`
#   SLURMCTLD_PORT      controller port (default 16817)
#   SLURMD_PORT         node daemon port (default 16818)
#   KEEP_SLURM_TEST_DIR 1 keeps the temporary directory
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

START_SECONDS=$SECONDS
log() { printf '[slurm-test %3ds] %s\n' "$((SECONDS - START_SECONDS))" "$*"; }
fail() {
    printf '[slurm-test] FAIL: %s\n' "$*" >&2
    exit 1
}
# Polls `$2...` every half second until it succeeds, for at most $1 seconds.
wait_until() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

trap 'fail "line $LINENO: \`$BASH_COMMAND\` exited with status $?"' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CTLD_PORT=${SLURMCTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
SWEEP_TASKS=4

[ "$(id -u)" = 0 ] || fail "must run as root: it installs packages and starts slurm and munge daemons"

# --- state the cleanup needs; filled in as things start ---------------------
WORK=""
MUNGED_PID=""
SLURMCTLD_PID=""
SLURMD_PID=""
POLICY_RC_CREATED=0

# Waits up to $2 seconds for process $1 to exit after SIGTERM, then SIGKILLs it.
stop_pid() {
    local pid=$1 name=$2 waited=0
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 20 ]; do
        sleep 0.5
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name ($pid) ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Processes of this test's cluster other than this script: daemons and job
# steps name the work directory on their command line; slurmstepd does not,
# but slurmd passes it its environment, which holds our SLURM_CONF.
our_processes() {
    local proc pid
    for proc in /proc/[0-9]*; do
        pid=${proc#/proc/}
        [ "$pid" != $$ ] || continue
        if tr '\0' ' ' 2>/dev/null <"$proc/cmdline" | grep -qF "$WORK/"; then
            echo "$pid"
        elif [ "$(cat "$proc/comm" 2>/dev/null)" = slurmstepd ] &&
            tr '\0' '\n' 2>/dev/null <"$proc/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF"; then
            echo "$pid"
        fi
    done
}

# $1 and all its descendants, parents first.
process_tree() {
    local child
    echo "$1"
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        process_tree "$child"
    done
}

queue_empty() { [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null)" ]; }

dump_logs() {
    local file
    for file in "$WORK"/log/*.log "$WORK"/cluster/logs/*.out; do
        [ -f "$file" ] || continue
        printf '%s\n' "----- last lines of $file -----" >&2
        tail -n 25 "$file" >&2
    done
}

cleanup() {
    local status=$?
    set +e
    trap - ERR
    if [ "$POLICY_RC_CREATED" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    if [ -n "$WORK" ]; then
        [ "$status" = 0 ] || dump_logs
        # Every job on this private cluster is ours.
        if [ -n "$SLURMCTLD_PID" ] && kill -0 "$SLURMCTLD_PID" 2>/dev/null; then
            local jobs
            jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
            if [ -n "$jobs" ]; then
                log "cancelling jobs: $jobs"
                # shellcheck disable=SC2086 # one argument per job id
                timeout 10 scancel $jobs 2>/dev/null
                wait_until 30 queue_empty || log "jobs still queued after scancel: $jobs"
            fi
        fi
        stop_pid "$SLURMD_PID" slurmd
        stop_pid "$SLURMCTLD_PID" slurmctld
        stop_pid "$MUNGED_PID" munged
        local leftovers pid member
        leftovers=$(our_processes)
        if [ -n "$leftovers" ]; then
            printf '[slurm-test] FAIL: processes left after stopping the daemons:\n' >&2
            # Their children (a job's processes) go with them.
            for pid in $leftovers; do
                for member in $(process_tree "$pid"); do
                    ps -o pid=,args= -p "$member" >&2
                    stop_pid "$member" leftover
                done
            done
            [ "$status" != 0 ] || status=1
        fi
        if [ "${KEEP_SLURM_TEST_DIR:-0}" = 1 ]; then
            log "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    if [ "$status" = 0 ]; then
        log "PASS (${SECONDS}s)"
    else
        printf '[slurm-test] failed with status %s after %ss\n' "$status" "$SECONDS" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. packages --------------------------------------------------------------
have_packages() {
    local package
    for package in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}
if have_packages; then
    log "slurm-wlm and munge already installed"
else
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # Packages must not start their own daemons: this test runs private ones.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    timeout 600 apt-get update -q >/dev/null || fail "apt-get update failed"
    timeout 900 apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null ||
        fail "apt-get install slurm-wlm munge failed"
    if [ "$POLICY_RC_CREATED" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=0
    fi
fi
for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$tool" >/dev/null || fail "$tool not found after installing slurm-wlm and munge"
done
SLURM_VERSION=$(slurmctld -V)
# Debian puts the plugins in /usr/lib/<triplet>/slurm-wlm; other builds use .../slurm.
PLUGIN_DIR=""
for dir in /usr/lib/*/slurm-wlm /usr/lib/*/slurm /usr/lib64/slurm /usr/lib/slurm /usr/local/lib/slurm; do
    if [ -f "$dir/auth_munge.so" ]; then
        PLUGIN_DIR=$dir
        break
    fi
done
[ -n "$PLUGIN_DIR" ] || fail "no slurm plugin directory with auth_munge.so found"
log "$SLURM_VERSION, plugins in $PLUGIN_DIR"

# --- 2. flatsim ---------------------------------------------------------------
if [ -n "${FLATSIM_BIN:-}" ]; then
    FLATSIM=$(realpath "$FLATSIM_BIN")
else
    log "building flatsim (cargo build --release -p cli)"
    (cd "$ROOT" && timeout 1800 cargo build --release -q -p cli) || fail "cargo build --release -p cli failed"
    # A relative CARGO_TARGET_DIR is relative to where cargo ran.
    FLATSIM=$(cd "$ROOT" && realpath "${CARGO_TARGET_DIR:-target}/release/flatsim")
fi
[ -x "$FLATSIM" ] || fail "flatsim binary $FLATSIM is not executable"
# Every flatsim call here takes well under a second; bound it all the same.
flatsim() { timeout 120 "$FLATSIM" "$@"; }

# --- 3. a private single-node cluster -------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flatsim-slurm.XXXXXX")
chmod 755 "$WORK"
mkdir -p "$WORK"/{etc,log,state,spool,munge,src}
export SLURM_CONF="$WORK/etc/slurm.conf"
NODE=$(hostname -s 2>/dev/null || uname -n)
NODE=${NODE%%.*}
CPUS=$(nproc)
[ "$CPUS" -le 2 ] || CPUS=2

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$CTLD_PORT" "$SLURMD_PORT"; do
    ! port_in_use "$port" || fail "port $port is in use; set SLURMCTLD_PORT/SLURMD_PORT to free ports"
done

# munged: its own key, socket, pid, seed and log files, run by the munge user
# when the package created one (munged wants to own its files).
MUNGE_USER=root
id munge >/dev/null 2>&1 && MUNGE_USER=munge
MUNGE_KEY="$WORK/munge/munge.key"
MUNGE_SOCKET="$WORK/munge/munge.socket"
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$MUNGE_KEY" --bits=1024
else
    dd if=/dev/urandom of="$MUNGE_KEY" bs=128 count=1 status=none
fi
# munged wants the socket's directory searchable by all, and the key private.
chmod 755 "$WORK/munge"
chmod 400 "$MUNGE_KEY"
chown -R "$MUNGE_USER:" "$WORK/munge"
# setpriv execs munged (runuser would stay in between), so $! is munged itself.
setpriv --reuid="$MUNGE_USER" --regid="$MUNGE_USER" --init-groups -- \
    munged --foreground --key-file="$MUNGE_KEY" --socket="$MUNGE_SOCKET" \
    --pid-file="$WORK/munge/munged.pid" --seed-file="$WORK/munge/munged.seed" \
    --log-file="$WORK/munge/munged.log" >"$WORK/log/munged.log" 2>&1 &
MUNGED_PID=$!
munged_up() {
    kill -0 "$MUNGED_PID" 2>/dev/null || fail "munged exited; see its log above"
    test -S "$MUNGE_SOCKET"
}
wait_until 20 munged_up || fail "munged did not create $MUNGE_SOCKET within 20 s"
timeout 10 munge --socket="$MUNGE_SOCKET" -n </dev/null | timeout 10 unmunge --socket="$MUNGE_SOCKET" >/dev/null ||
    fail "munge credential round trip failed"
log "munged up ($MUNGED_PID)"

cat >"$SLURM_CONF" <<EOF
# Written by scripts/slurm-test.sh: one node, localhost, no cgroups, no accounting.
ClusterName=flatsimtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
PluginDir=$PLUGIN_DIR
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/state/slurmctld.pid
SlurmdPidFile=$WORK/spool/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobContainerType=job_container/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
PropagateResourceLimits=NONE
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
SlurmdTimeout=60
MinJobAge=600
KillWait=5
TmpFS=$WORK/spool
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=4096 State=UNKNOWN
PartitionName=flatsim Nodes=$NODE Default=YES MaxTime=00:30:00 State=UP
EOF

slurmctld -D -c -f "$SLURM_CONF" >"$WORK/log/slurmctld.stdout" 2>&1 &
SLURMCTLD_PID=$!
controller_up() {
    kill -0 "$SLURMCTLD_PID" 2>/dev/null || fail "slurmctld exited; see its log above"
    timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'
}
wait_until 30 controller_up || fail "slurmctld did not answer within 30 s"
log "slurmctld up ($SLURMCTLD_PID) on port $CTLD_PORT"

slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$WORK/log/slurmd.stdout" 2>&1 &
SLURMD_PID=$!
node_idle() {
    kill -0 "$SLURMD_PID" 2>/dev/null || fail "slurmd exited; see its log above"
    [ "$(timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null)" = idle ]
}
wait_until 60 node_idle || {
    timeout 10 scontrol show node "$NODE" >&2 || true
    fail "node $NODE did not become idle within 60 s"
}
log "slurmd up ($SLURMD_PID); node $NODE idle with $CPUS CPUs"

# --- 4. the sweep -----------------------------------------------------------------
# 4 × 3 = 12 GEMM points on a hardware file next to the sweep (copied into
# the study) plus a command-line --set (stored into the study).
cp "$ROOT/configs/hw/edge.toml" "$WORK/src/my-edge.toml"
cat >"$WORK/src/gemms.toml" <<'EOF'
version = 1
command = "gemm"
[base]
hw = "my-edge.toml"
k = 64
n = 96
[axes]
m = [1, 33, 64, 100]
pe_dataflow = ["os", "ws", "is"]
EOF
SET=(--set pe_array.fold_overlap=false)
SLURM_OPTS=(--slurm-opt time=00:05:00 --slurm-opt mem=256M --slurm-opt cpus-per-task=1
    --slurm-opt partition=flatsim --slurm-opt "comment=flatsim slurm test")
CLUSTER="$WORK/cluster"
LOCAL="$WORK/local"

# shellcheck disable=SC2016 # the backquotes are flatsim's
flatsim sweep "$WORK/src/gemms.toml" --dry-run | head -n 1 | grep -qx '12 points of `flatsim gemm`' ||
    fail "--dry-run does not list 12 gemm points"
flatsim sweep "$WORK/src/gemms.toml" --out "$LOCAL" "${SET[@]}" --jobs 2 >/dev/null
[ "$(wc -l <"$LOCAL/summary.csv")" = 13 ] || fail "local summary.csv should have a header and 12 rows"
log "local sweep done: $LOCAL/summary.csv"

# Submits; prints the job id.
submit() {
    local output
    output=$(flatsim sweep "$@") || fail "flatsim sweep $* failed: $output"
    printf '%s\n' "$output" | grep -oE 'Submitted batch job [0-9]+' | grep -oE '[0-9]+$' ||
        fail "no job id in the output of flatsim sweep --submit: $output"
}

# Waits for every task of array job $1 to leave the queue, then checks that
# each of the $2 expected tasks completed with exit code 0.
wait_for_job() {
    local job=$1 expected=$2 states
    job_gone() { [ -z "$(timeout 10 squeue -h -j "$job" -o %i 2>/dev/null)" ]; }
    wait_until 240 job_gone || {
        timeout 10 squeue -j "$job" >&2 || true
        fail "job $job still queued or running after 240 s"
    }
    # One line per task; count the (state, exit code) pairs.
    states=$(timeout 10 scontrol -o show job "$job" | awk '{
        state = ""; code = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^JobState=/) state = substr($i, 10)
            if ($i ~ /^ExitCode=/) code = substr($i, 10)
        }
        print state, code
    }' | sort | uniq -c | sed 's/^ *//')
    [ "$states" = "$expected COMPLETED 0:0" ] ||
        fail "job $job: expected $expected tasks COMPLETED with exit 0:0, found: $states"
}

JOB=$(submit "$WORK/src/gemms.toml" --out "$CLUSTER" "${SET[@]}" --slurm --tasks "$SWEEP_TASKS" "${SLURM_OPTS[@]}" --submit)
log "submitted array job $JOB ($SWEEP_TASKS tasks)"
grep -qx '#SBATCH --array=0-3' "$CLUSTER/sweep.sbatch" || fail "sweep.sbatch does not run tasks 0-3"
# sbatch must have read the options as written (quoted values, one with spaces).
JOB_INFO=$(timeout 10 scontrol -o show job "${JOB}_0")
for expected in "JobName=flatsim-cluster " "Partition=flatsim " "Comment=flatsim slurm test " "TimeLimit=00:05:00 "; do
    [[ "$JOB_INFO" == *"$expected"* ]] || fail "job $JOB lacks '$expected': $JOB_INFO"
done
# A later edit of the original files must not change the running study.
rm -r "$WORK/src"
wait_for_job "$JOB" "$SWEEP_TASKS"
# Each task's log ends with its shard's report: 3 of the 12 points, all run now.
for task in 0 1 2 3; do
    grep -q '^3 points: 3 run, 0 already done, 0 failed' "$CLUSTER/logs/${JOB}_$task.out" ||
        fail "task $task did not run its 3 points; see $CLUSTER/logs/${JOB}_$task.out"
    [ "$(wc -l <"$CLUSTER/shards/$task/summary.csv")" = 4 ] || fail "shard $task should hold 3 points"
done
log "job $JOB completed"

flatsim sweep-merge "$CLUSTER" >/dev/null || fail "sweep-merge of the complete study failed"
cmp "$LOCAL/summary.csv" "$CLUSTER/summary.csv" || fail "merged summary.csv differs from the local run"
cp "$CLUSTER/summary.csv" "$WORK/first-merge.csv"
flatsim sweep-merge "$CLUSTER" >/dev/null
cmp "$WORK/first-merge.csv" "$CLUSTER/summary.csv" || fail "merging twice changed summary.csv"
log "merged summary.csv is byte-identical to the local run"

# --- 5. --only-missing ------------------------------------------------------------
rm "$CLUSTER/shards/2/summary.csv"
GAPS=$(flatsim sweep-merge "$CLUSTER" 2>&1) && MERGE_STATUS=0 || MERGE_STATUS=$?
[ "$MERGE_STATUS" = 1 ] || fail "sweep-merge with a missing shard exited $MERGE_STATUS, expected 1"
[ "$(printf '%s\n' "$GAPS" | grep '^missing: ')" = "missing: point 2 (shard 2)
missing: point 6 (shard 2)
missing: point 10 (shard 2)" ] || fail "sweep-merge should report points 2, 6 and 10 of shard 2 missing: $GAPS"
# No --tasks: a resubmission keeps the study's split.
JOB=$(submit "$CLUSTER/sweep.toml" --out "$CLUSTER" --slurm "${SLURM_OPTS[@]}" --only-missing --submit)
grep -qx '#SBATCH --array=2' "$CLUSTER/sweep.sbatch" || fail "--only-missing should resubmit task 2 alone"
log "resubmitted shard 2 as job $JOB"
wait_for_job "$JOB" 1
grep -q '^3 points: 3 run, 0 already done, 0 failed' "$CLUSTER/logs/${JOB}_2.out" ||
    fail "the resubmitted task did not rerun shard 2's 3 points; see $CLUSTER/logs/${JOB}_2.out"
flatsim sweep-merge "$CLUSTER" >/dev/null || fail "sweep-merge after resubmission failed"
cmp "$LOCAL/summary.csv" "$CLUSTER/summary.csv" || fail "summary.csv after --only-missing differs from the local run"
NOTHING=$(flatsim sweep "$CLUSTER/sweep.toml" --out "$CLUSTER" --slurm --only-missing --submit)
[ "$NOTHING" = "every point is done; nothing to submit" ] || fail "--only-missing on a complete study: $NOTHING"
log "--only-missing resubmission merged byte-identical to the local run"
