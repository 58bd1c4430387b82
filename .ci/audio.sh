#!/usr/bin/env bash
# A loopback sound server for headless CI: PipeWire with a null sink whose monitor is the default
# source, so whatever rtsdk plays on the default output comes back on the default input.
#
#   bash .ci/audio.sh install          apt-get the packages when something is missing
#   eval "$(bash .ci/audio.sh start)"  start the daemons; prints the `export` lines the tests need
#   bash .ci/audio.sh env              print those `export` lines again (needs RTSDK_AUDIO_DIR)
#   bash .ci/audio.sh stop             stop the daemons by PID and remove the state directory
#   bash .ci/audio.sh run CMD ARGS...  install, start, run CMD with the environment, stop; CMD's status
#   bash .ci/audio.sh room-up IR.wav [NOISE_DB [CLIP_IN_DB CLIP_OUT_DB]]
#                                      (needs the started environment) the echo room: see below
#   bash .ci/audio.sh room-down        back to the plain loopback
#
# The echo room (for the echo-cancellation tests). The speaker (default sink rtsdk_ci) no longer
# reaches the microphone directly: its monitor goes through a PipeWire filter-chain (a separate
# `pipewire -c room.conf` process) -- a soft clip (LADSPA TAP Sigmoid at CLIP_IN_DB in and
# CLIP_OUT_DB out; the default -7.3 and -0.5 dB is a mild one, measured y = tanh(1.5 x) / 1.5
# within 2 %; 0 and -3 dB is a small speaker driven into clipping), a convolver with the impulse response
# IR.wav (mono; its delay, decay and the small speaker's high-pass are in the file, written by
# the test), and pink noise (TAP Pink Noise at NOISE_DB, default -44: about -50 dBFS at the
# microphone) -- into a second null sink, rtsdk_mic, whose monitor becomes the default
# source. Anything else played into rtsdk_mic (`pw-play --target rtsdk_mic voice.wav`) is heard
# by the microphone as a person in the room.
#
# Or source it and call audio_install / audio_up / audio_down.
#
# The daemons are started by this script, their PIDs kept in $RTSDK_AUDIO_DIR/pids, and stopped
# by those PIDs only. A test process needs just XDG_RUNTIME_DIR (the ALSA pipewire plugin finds
# $XDG_RUNTIME_DIR/pipewire-0); PortAudio's "default" device is then PipeWire.

AUDIO_PACKAGES=(libportaudio2 pipewire pipewire-alsa pipewire-pulse wireplumber pulseaudio-utils dbus
    tap-plugins)
AUDIO_BINARIES=(pipewire pipewire-pulse wireplumber pactl dbus-daemon)

_audio_log() { printf 'audio.sh: %s\n' "$*" >&2; }

_audio_wait() {  # _audio_wait SECONDS COMMAND...: retry COMMAND every 50 ms until it succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 0.05
    done
}

audio_install() {
    local missing=0 b
    for b in "${AUDIO_BINARIES[@]}"; do
        command -v "$b" >/dev/null 2>&1 || missing=1
    done
    [ -e /usr/share/alsa/alsa.conf.d/99-pipewire-default.conf ] \
        || [ -e /etc/alsa/conf.d/99-pipewire-default.conf ] || missing=1
    ldconfig -p 2>/dev/null | grep libportaudio.so.2 >/dev/null || missing=1
    [ -e /usr/lib/ladspa/tap_sigmoid.so ] || missing=1
    if [ "$missing" = 0 ]; then
        return 0
    fi
    _audio_log "installing ${AUDIO_PACKAGES[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${AUDIO_PACKAGES[@]}" >&2
}

_audio_exports() {
    printf 'export RTSDK_AUDIO_DIR=%q\n' "$RTSDK_AUDIO_DIR"
    printf 'export XDG_RUNTIME_DIR=%q\n' "$RTSDK_AUDIO_DIR"
}

_audio_spawn() {  # _audio_spawn NAME CMD...: start CMD detached, log to $dir/NAME.log, record PID
    local name=$1
    shift
    "$@" </dev/null >"$RTSDK_AUDIO_DIR/$name.log" 2>&1 &
    echo "$! $name" >>"$RTSDK_AUDIO_DIR/pids"
}

audio_up() {
    RTSDK_AUDIO_DIR=$(mktemp -d -t rtsdk-audio.XXXXXX)
    export RTSDK_AUDIO_DIR
    (
        export XDG_RUNTIME_DIR=$RTSDK_AUDIO_DIR
        export DBUS_SESSION_BUS_ADDRESS=unix:path=$RTSDK_AUDIO_DIR/bus
        _audio_spawn dbus dbus-daemon --session --nofork --nopidfile \
            --address="$DBUS_SESSION_BUS_ADDRESS"
        _audio_wait 10 test -S "$RTSDK_AUDIO_DIR/bus" || { _audio_log "dbus did not start"; exit 1; }
        _audio_spawn pipewire pipewire
        _audio_wait 10 test -S "$RTSDK_AUDIO_DIR/pipewire-0" \
            || { _audio_log "pipewire did not start"; exit 1; }
        _audio_spawn wireplumber wireplumber
        _audio_spawn pipewire-pulse pipewire-pulse
        _audio_wait 10 pactl info || { _audio_log "pipewire-pulse did not answer"; exit 1; }
        pactl load-module module-null-sink sink_name=rtsdk_ci \
            sink_properties=device.description=rtsdk_CI_Loopback >/dev/null
        _audio_wait 10 bash -c 'pactl list short sinks | grep -q rtsdk_ci' \
            || { _audio_log "null sink missing"; exit 1; }
        pactl set-default-sink rtsdk_ci
        pactl set-default-source rtsdk_ci.monitor
        _audio_wait 10 bash -c '[ "$(pactl get-default-source)" = rtsdk_ci.monitor ]' \
            || { _audio_log "default source not set"; exit 1; }
    ) || { audio_down; return 1; }
    export XDG_RUNTIME_DIR=$RTSDK_AUDIO_DIR
    _audio_log "loopback up in $RTSDK_AUDIO_DIR"
}

audio_down() {
    local dir=${RTSDK_AUDIO_DIR:-}
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        return 0
    fi
    if [ -f "$dir/pids" ]; then
        local pid name pids=()
        while read -r pid name; do
            pids+=("$pid")
        done < <(tac "$dir/pids")
        kill "${pids[@]}" 2>/dev/null || true
        for pid in "${pids[@]}"; do
            if ! _audio_wait 5 bash -c "! kill -0 $pid"; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done
    fi
    rm -rf "$dir"
    unset RTSDK_AUDIO_DIR
}

_room_conf() {  # _room_conf IR NOISE_DB CLIP_IN_DB CLIP_OUT_DB: the filter-chain process's configuration
    cat <<EOF
context.properties = { log.level = 2 }
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.*       = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-rt flags = [ ifexists nofail ] }
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-filter-chain
        args = {
            node.description = "rtsdk echo room"
            media.name       = "rtsdk echo room"
            audio.rate       = 48000
            audio.channels   = 1
            audio.position   = [ MONO ]
            filter.graph = {
                nodes = [
                    { type = ladspa name = clip plugin = tap_sigmoid label = tap_sigmoid
                      control = { "Pre Gain [dB]" = $3 "Post Gain [dB]" = $4 } }
                    { type = builtin name = room label = convolver
                      config = { filename = "$1" } }
                    { type = ladspa name = noise plugin = tap_pinknoise label = tap_pinknoise
                      control = { "Signal Level [dB]" = 0 "Noise Level [dB]" = $2 } }
                ]
                links = [
                    { output = "clip:Output" input = "room:In" }
                    { output = "room:Out" input = "noise:Input" }
                ]
            }
            capture.props = {
                node.name = "rtsdk_room_in"
                target.object = "rtsdk_ci"
                stream.capture.sink = true
            }
            playback.props = {
                node.name = "rtsdk_room_out"
                target.object = "rtsdk_mic"
            }
        }
    }
]
EOF
}

audio_room_up() {  # audio_room_up IR.wav [NOISE_DB [CLIP_IN_DB CLIP_OUT_DB]]
    local ir=${1:?room-up needs the impulse response WAV}
    local noise=${2:--44} clip_in=${3:--7.3} clip_out=${4:--0.5}
    : "${RTSDK_AUDIO_DIR:?RTSDK_AUDIO_DIR is not set: run start first}"
    [ -r "$ir" ] || { _audio_log "cannot read $ir"; return 1; }
    local v
    for v in "$noise" "$clip_in" "$clip_out"; do
        [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] \
            || { _audio_log "room-up: levels are numbers of dB, got '$v'"; return 1; }
    done
    audio_room_down
    export XDG_RUNTIME_DIR=$RTSDK_AUDIO_DIR
    if ! pactl list short sinks | grep -q rtsdk_mic; then
        pactl load-module module-null-sink sink_name=rtsdk_mic \
            sink_properties=device.description=rtsdk_CI_Room_Microphone >/dev/null
        _audio_wait 10 bash -c 'pactl list short sinks | grep -q rtsdk_mic' \
            || { _audio_log "room sink missing"; return 1; }
    fi
    _room_conf "$(realpath "$ir")" "$noise" "$clip_in" "$clip_out" >"$RTSDK_AUDIO_DIR/room.conf"
    _audio_spawn room env LADSPA_PATH=/usr/lib/ladspa pipewire -c "$RTSDK_AUDIO_DIR/room.conf"
    tail -n 1 "$RTSDK_AUDIO_DIR/pids" | cut -d' ' -f1 >"$RTSDK_AUDIO_DIR/room.pid"
    if ! _audio_wait 10 bash -c 'pw-cli ls Node 2>/dev/null | grep -q rtsdk_room_out'; then
        _audio_log "the room did not start: $(tail -n 5 "$RTSDK_AUDIO_DIR/room.log")"
        audio_room_down
        return 1
    fi
    pactl set-default-source rtsdk_mic.monitor
    _audio_wait 10 bash -c '[ "$(pactl get-default-source)" = rtsdk_mic.monitor ]' \
        || { _audio_log "room source not set"; return 1; }
}

audio_room_down() {  # stop the room's process; the microphone hears the speaker directly again
    local dir=${RTSDK_AUDIO_DIR:-}
    if [ -z "$dir" ] || [ ! -f "$dir/room.pid" ]; then
        return 0
    fi
    export XDG_RUNTIME_DIR=$dir
    local pid
    pid=$(cat "$dir/room.pid")
    kill "$pid" 2>/dev/null || true
    _audio_wait 5 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/room.pid"
    grep -v "^$pid room\$" "$dir/pids" >"$dir/pids.new" || true
    mv "$dir/pids.new" "$dir/pids"
    pactl set-default-source rtsdk_ci.monitor 2>/dev/null || true
}

_audio_main() {
    set -euo pipefail
    local cmd=${1:-}
    shift || true
    case "$cmd" in
    install) audio_install ;;
    start)
        audio_install
        audio_up
        _audio_exports
        ;;
    env)
        : "${RTSDK_AUDIO_DIR:?RTSDK_AUDIO_DIR is not set: run start first}"
        _audio_exports
        ;;
    stop) audio_down ;;
    room-up) audio_room_up "$@" ;;
    room-down) audio_room_down ;;
    run)
        [ "$#" -gt 0 ] || { _audio_log "run needs a command"; exit 2; }
        audio_install
        audio_up
        local rc=0
        "$@" || rc=$?
        audio_down
        exit "$rc"
        ;;
    *)
        echo "usage: bash .ci/audio.sh install|start|env|stop|run CMD...|room-up IR.wav [NOISE_DB [CLIP_IN_DB CLIP_OUT_DB]]|room-down" >&2
        exit 2
        ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _audio_main "$@"
fi
