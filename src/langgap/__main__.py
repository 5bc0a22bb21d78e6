"""``python -m langgap``: the command line (same as the ``langgap`` console script)."""

import signal


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM during the imports below: end like Ctrl-C (exit 130)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    from langgap.cli import main  # after the handler: the imports take a while

    main()
