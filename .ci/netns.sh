#!/usr/bin/env bash
# A real network that tests can make bad: a network namespace joined to the root namespace by a
# veth pair, with the kernel's token bucket (tc tbf) for bandwidth and queueing on either side.
#
#   eval "$(bash .ci/netns.sh up)"        create a namespace; prints the `export` lines:
#                                          RTSDK_NETNS (its name), RTSDK_NETNS_HOST_ADDR (the
#                                          root-namespace end), RTSDK_NETNS_ADDR (the end inside)
#   bash .ci/netns.sh down NAME           remove it (and its veth pair); nothing if already gone
#   bash .ci/netns.sh shape NAME DIR RATE [LATENCY_MS] [BURST_BYTES]
#                                          a tbf qdisc on DIR's sending end (replacing any):
#                                            uplink   = host -> namespace (the host end's egress)
#                                            downlink = namespace -> host (the inside end's egress)
#                                          RATE as tc writes it (128kbit, 1mbit, ...);
#                                          LATENCY_MS (default 400): how long a packet may wait
#                                          in the queue before it is dropped, i.e. how big the
#                                          queue is (RATE x LATENCY: the bufferbloat);
#                                          BURST_BYTES (default: 10 ms at RATE, at least 3028)
#   bash .ci/netns.sh unshape NAME DIR    back to the default qdisc; nothing if none was set
#   bash .ci/netns.sh run NAME CMD...     run CMD inside the namespace; CMD's status
#   bash .ci/netns.sh list                the namespaces this script made that still exist
#
# Or source it and call netns_up / netns_down / netns_shape / netns_unshape.
#
# Names: namespace rtsdk-XXXXXX (six random hex digits), veth ends rth-XXXXXX (root namespace)
# and rtn-XXXXXX (inside). Addresses: a /30 of 10.231.0.0/16 that no interface holds yet (host
# .1, namespace .2 of the /30), chosen under a lock, so concurrent runs never share one. Only
# names of that form are accepted, so `down` cannot remove anything this script did not make.
#
# Needs root and iproute2 (ip, tc). The kernel must have tbf (checked by `up`); netem and
# fq_codel are absent on the CI machines, so delay and jitter come from an impairment proxy
# (rtsdk.testing.ImpairedLink), not from here.

NETNS_PREFIX=rtsdk-
NETNS_NET=10.231
NETNS_LOCK=/run/lock/rtsdk-netns.lock

_netns_log() { printf 'netns.sh: %s\n' "$*" >&2; }

_netns_check_name() {  # the NAME argument, or fail: only namespaces this script makes
    local name=${1:-}
    if ! [[ $name =~ ^rtsdk-[0-9a-f]{6}$ ]]; then
        _netns_log "not a namespace of this script: '$name' (expected rtsdk-XXXXXX)"
        return 2
    fi
}

_netns_id() { printf '%s' "${1#"$NETNS_PREFIX"}"; }

_netns_requirements() {
    local b
    for b in ip tc flock; do
        command -v "$b" >/dev/null 2>&1 || { _netns_log "$b is missing (iproute2, util-linux)"; return 1; }
    done
    if [ "$(id -u)" != 0 ]; then
        _netns_log "needs root (network namespaces and tc)"
        return 1
    fi
}

_netns_free_subnet() {  # print "A.B" of a free 10.231.A.B/30 (B a multiple of 4), or fail
    local used tries index third fourth
    used=$(ip -4 -o addr show 2>/dev/null | awk '{print $4}')
    for ((tries = 0; tries < 200; tries++)); do
        index=$(((RANDOM << 15 | RANDOM) % 16384))
        third=$((index / 64))
        fourth=$((index % 64 * 4))
        if ! grep -q "^$NETNS_NET\.$third\.\($fourth\|$((fourth + 1))\|$((fourth + 2))\|$((fourth + 3))\)/" <<<"$used"; then
            printf '%s.%s' "$third" "$fourth"
            return 0
        fi
    done
    _netns_log "no free /30 found in $NETNS_NET.0.0/16"
    return 1
}

netns_up() {  # create; sets RTSDK_NETNS, RTSDK_NETNS_HOST_ADDR, RTSDK_NETNS_ADDR
    _netns_requirements || return 1
    local id name host_dev ns_dev addrs host_addr ns_addr
    id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    name=$NETNS_PREFIX$id
    host_dev=rth-$id
    ns_dev=rtn-$id
    if ip netns list | grep -q "^$name\b"; then
        _netns_log "$name exists already"
        return 1
    fi
    mkdir -p "$(dirname "$NETNS_LOCK")"
    # under the lock: choose a /30 nobody holds and take it before the next run looks
    addrs=$(
        (
            flock -w 10 9 || { _netns_log "could not take $NETNS_LOCK"; exit 1; }
            set -e
            subnet=$(_netns_free_subnet)
            third=${subnet%.*}
            fourth=${subnet#*.}
            host_addr=$NETNS_NET.$third.$((fourth + 1))
            ns_addr=$NETNS_NET.$third.$((fourth + 2))
            {
                ip netns add "$name"
                ip link add "$host_dev" type veth peer name "$ns_dev" netns "$name"
                ip addr add "$host_addr/30" dev "$host_dev"
                ip link set "$host_dev" up
                ip netns exec "$name" ip link set lo up
                ip netns exec "$name" ip addr add "$ns_addr/30" dev "$ns_dev"
                ip netns exec "$name" ip link set "$ns_dev" up
            } >&2
            printf '%s %s\n' "$host_addr" "$ns_addr"
        ) 9>"$NETNS_LOCK"
    ) || { netns_down "$name" 2>/dev/null; return 1; }
    read -r host_addr ns_addr <<<"$addrs"
    # the token bucket must exist in this kernel (it is a module some kernels leave out)
    if ! ip netns exec "$name" tc qdisc add dev lo root tbf rate 1mbit burst 4kb latency 50ms \
        2>/dev/null; then
        _netns_log "the kernel has no tbf qdisc (sch_tbf): cannot shape"
        netns_down "$name"
        return 1
    fi
    ip netns exec "$name" tc qdisc del dev lo root
    export RTSDK_NETNS=$name RTSDK_NETNS_HOST_ADDR=$host_addr RTSDK_NETNS_ADDR=$ns_addr
    _netns_log "$name up: $host_addr (root namespace, $host_dev) <-> $ns_addr ($ns_dev)"
}

netns_down() {  # netns_down NAME: remove the namespace and its veth pair (idempotent)
    _netns_check_name "${1:-}" || return 2
    local name=$1 id
    id=$(_netns_id "$name")
    if ip netns list | grep -q "^$name\b"; then
        # deleting the namespace destroys its veth end, and with it the pair
        ip netns delete "$name"
    fi
    if ip link show "rth-$id" >/dev/null 2>&1; then
        ip link delete "rth-$id" 2>/dev/null || true
    fi
    return 0
}

_netns_dev() {  # _netns_dev NAME DIR: "dev" or "netns dev" where DIR's egress is
    local id
    id=$(_netns_id "$1")
    case "$2" in
    uplink) printf 'rth-%s' "$id" ;;
    downlink) printf 'rtn-%s' "$id" ;;
    *)
        _netns_log "direction must be uplink (host -> namespace) or downlink, got '$2'"
        return 2
        ;;
    esac
}

_netns_tc() {  # _netns_tc NAME DIR tc-args...: tc on DIR's sending end
    local name=$1 dir=$2 dev
    shift 2
    dev=$(_netns_dev "$name" "$dir") || return 2
    if [ "$dir" = uplink ]; then
        tc "$1" "$2" "$3" dev "$dev" "${@:4}"
    else
        ip netns exec "$name" tc "$1" "$2" "$3" dev "$dev" "${@:4}"
    fi
}

_netns_rate_bits() {  # bits per second of a tc rate (bit, kbit, mbit, gbit), or fail
    local rate=$1 n unit
    if ! [[ $rate =~ ^([0-9]+)(bit|kbit|mbit|gbit)$ ]]; then
        _netns_log "rate must be a whole number with bit, kbit, mbit or gbit (e.g. 128kbit), got '$rate'"
        return 2
    fi
    n=${BASH_REMATCH[1]}
    unit=${BASH_REMATCH[2]}
    case "$unit" in
    bit) echo "$n" ;;
    kbit) echo $((n * 1000)) ;;
    mbit) echo $((n * 1000000)) ;;
    gbit) echo $((n * 1000000000)) ;;
    esac
}

netns_shape() {  # netns_shape NAME DIR RATE [LATENCY_MS] [BURST_BYTES]
    _netns_check_name "${1:-}" || return 2
    local name=$1 dir=${2:-} rate=${3:-} latency=${4:-400} burst=${5:-} bits
    bits=$(_netns_rate_bits "$rate") || return 2
    if ! [[ $latency =~ ^[0-9]+$ ]] || [ "$latency" -lt 1 ]; then
        _netns_log "latency must be a whole number of milliseconds >= 1, got '$latency'"
        return 2
    fi
    if [ -z "$burst" ]; then
        burst=$((bits / 8 / 100))
        [ "$burst" -ge 3028 ] || burst=3028
    elif ! [[ $burst =~ ^[0-9]+$ ]] || [ "$burst" -lt 1600 ]; then
        _netns_log "burst must be a whole number of bytes >= 1600 (one full frame), got '$burst'"
        return 2
    fi
    ip netns list | grep -q "^$name\b" || { _netns_log "no namespace $name"; return 1; }
    _netns_tc "$name" "$dir" qdisc replace root tbf rate "$rate" burst "$burst" \
        latency "${latency}ms"
}

netns_unshape() {  # netns_unshape NAME DIR
    _netns_check_name "${1:-}" || return 2
    local name=$1 dir=${2:-}
    _netns_dev "$name" "$dir" >/dev/null || return 2
    ip netns list | grep -q "^$name\b" || return 0
    _netns_tc "$name" "$dir" qdisc del root 2>/dev/null || true
}

_netns_main() {
    set -euo pipefail
    local cmd=${1:-}
    shift || true
    case "$cmd" in
    up)
        netns_up
        printf 'export RTSDK_NETNS=%q\n' "$RTSDK_NETNS"
        printf 'export RTSDK_NETNS_HOST_ADDR=%q\n' "$RTSDK_NETNS_HOST_ADDR"
        printf 'export RTSDK_NETNS_ADDR=%q\n' "$RTSDK_NETNS_ADDR"
        ;;
    down) netns_down "$@" ;;
    shape) netns_shape "$@" ;;
    unshape) netns_unshape "$@" ;;
    run)
        _netns_check_name "${1:-}" || exit 2
        local name=$1
        shift
        [ "$#" -gt 0 ] || { _netns_log "run needs a command"; exit 2; }
        exec ip netns exec "$name" "$@"
        ;;
    list) ip netns list | awk '{print $1}' | grep "^$NETNS_PREFIX" || true ;;
    *)
        echo "usage: bash .ci/netns.sh up|down NAME|shape NAME DIR RATE [LATENCY_MS] [BURST]|unshape NAME DIR|run NAME CMD...|list" >&2
        exit 2
        ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _netns_main "$@"
fi
