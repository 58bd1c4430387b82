"""Command line: ``python -m rtsdk [info | devices | serve ...]``.

- no argument or ``info``: version, kernel backend, CPU features the kernels use, audio devices;
- ``devices``: the audio devices PortAudio sees; ``devices --latency``: plays a chirp on the
  output, hears it on the input, and reports the round trip, the settings that give the lowest
  stable one and the echo delay hint (:mod:`rtsdk.audio.latency`);
- ``models``: the model catalogue (API, reasoning, announced shutdown date, replacement);
- ``serve [--host H] [--port P] [--api-key K] [--pacing realtime|fast]``: the local Realtime
  server, printing its ``ws://`` URL on a line of its own, until SIGINT/SIGTERM;
- ``phone [--port P] [--workers N] [--demo] ...``: the phone server (carrier media streams on
  ``/media``, the webhook on ``/twiml``), or ``--demo``: one simulated call, all local.
- ``sip [--port P] [--model M] [--workers N] [--drain S] ...``: the SIP call server (OpenAI's
  signed webhooks on ``/webhook``; calls steered over sidebands).
"""

from __future__ import annotations

import argparse
import platform
import sys

__all__ = ["main"]

_USAGE = """usage: python -m rtsdk [info | devices [--latency] | models | serve ... | phone ...]

  info      version, kernel backend, CPU features and audio devices (the default)
  devices   list the audio devices; devices --latency measures the output -> input round trip
            (devices --help for its options)
  models    the models rtsdk knows: API, reasoning, shutdown date, replacement
  serve     run the local Realtime server on 127.0.0.1 (prints its ws:// URL)
  phone     bridge phone calls to Realtime sessions (phone --help; phone --demo)
  sip       answer OpenAI SIP calls: signed webhooks in, sidebands out (sip --help)
"""


def _cpu_flags() -> list[str]:
    """The CPU features the kernels dispatch on, as the OS reports them (Linux), else []."""
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "neon", "asimd")
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [w for w in wanted if w in have]
    except OSError:
        pass
    return []


def _devices_text() -> str:
    try:
        from rtsdk.audio.devices import describe_devices
    except ImportError as exc:  # the audio layer itself failed to import
        return f"audio devices: unavailable ({exc})"
    try:
        return describe_devices()
    except Exception as exc:  # no PortAudio, no audio server: say so, never crash
        return f"audio devices: unavailable ({exc})"


def _device_arg(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _latency_arg(text: str) -> str | float:
    if text in ("low", "high"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'low', 'high' or seconds, got {text!r}") from None


def devices_main(argv: list[str]) -> int:
    """``python -m rtsdk devices [--latency ...]``: 0 done, 1 no echo heard, 2 bad arguments or
    no usable device."""
    parser = argparse.ArgumentParser(
        prog="python -m rtsdk devices",
        description="List the audio devices, or measure the round trip from an output to an "
        "input (--latency): a chirp played and heard again, at a few settings.",
    )
    parser.add_argument("--latency", action="store_true", help="measure the round trip")
    parser.add_argument("--input", type=_device_arg, default="default", help="index or name")
    parser.add_argument("--output", type=_device_arg, default="default", help="index or name")
    parser.add_argument(
        "--rate",
        type=int,
        action="append",
        help="device rate to try (repeatable; default: "
        "the rate rtsdk opens the devices at, and the one they advertise)",
    )
    parser.add_argument(
        "--portaudio-latency",
        type=_latency_arg,
        action="append",
        metavar="LOW|HIGH|SECONDS",
        help="PortAudio latency to try (repeatable; default: low and high)",
    )
    parser.add_argument(
        "--blocksize",
        type=int,
        action="append",
        help="frames per callback to try (repeatable; default: 0, PortAudio's choice)",
    )
    parser.add_argument("--chirps", type=int, default=6, help="chirps per setting (2-100)")
    args = parser.parse_args(argv)
    if not args.latency:
        print(_devices_text())
        return 0
    from rtsdk.audio.latency import check_latency
    from rtsdk.exceptions import RtsdkError

    try:
        report = check_latency(
            args.input,
            args.output,
            sample_rates=args.rate,
            latencies=args.portaudio_latency,
            blocksizes=args.blocksize,
            chirps=args.chirps,
        )
    except RtsdkError as exc:
        print(f"rtsdk devices --latency: {exc}", file=sys.stderr)
        return 2
    print(report.describe())
    return 0 if report.heard else 1


def _info() -> int:
    import rtsdk
    from rtsdk import kernels

    print(f"rtsdk {rtsdk.__version__}")
    print(f"python {platform.python_version()} ({platform.machine()}, {platform.system()})")
    print(f"kernel backend: {kernels.BACKEND}")
    flags = _cpu_flags()
    print(f"cpu features: {' '.join(flags) if flags else 'baseline only'}")
    print(_devices_text())
    return 0


def models_text() -> str:
    """The catalogue as a table, one model per line; the defaults are starred."""
    from rtsdk import models

    defaults = {
        models.DEFAULT_MODEL,
        models.DEFAULT_TRANSCRIPTION_MODEL,
        models.DEFAULT_LIVE_MODEL,
        models.DEFAULT_TRANSLATION_MODEL,
    }
    width = max(len(name) for name in models.MODELS) + 2
    lines = [f"{'model':<{width}}{'API':<15}{'reasons':<9}shutdown (use instead)"]
    for info in models.MODELS.values():
        name = f"{info.name}{' *' if info.name in defaults else ''}"
        end = (
            f"{info.shutdown.isoformat()} ({info.replacement})"
            if info.shutdown is not None
            else "-"
        )
        lines.append(f"{name:<{width}}{info.api:<15}{'yes' if info.reasoning else 'no':<9}{end}")
    lines.append("* the default for its API")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m rtsdk`` and the ``rtsdk`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args else "info"
    if command in ("-h", "--help", "help"):
        print(_USAGE, end="")
        return 0
    if command == "info":
        return _info()
    if command == "devices":
        return devices_main(args)
    if command == "models":
        print(models_text())
        return 0
    if command == "serve":
        from rtsdk.testing.cli import serve_main

        return serve_main(args)
    if command == "phone":
        from rtsdk.telephony.cli import phone_main

        return phone_main(args)
    if command == "sip":
        from rtsdk.sip.cli import sip_main

        return sip_main(args)
    print(f"rtsdk: unknown command {command!r}\n\n{_USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
