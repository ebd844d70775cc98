"""The `daam` command's entry point (the console script, and `python -m pipelines`).

It imports nothing until the command runs. On Python before 3.13 every worker process started by
forkserver runs the main script again before its first task (CPython gh-126631: the preload of
`__main__` never worked), and the script's imports were `pipelines.cli`'s: Dagster's among them,
0.6 s of CPU in each reader, site and feedback worker. The command line itself is in
`pipelines/cli.py`."""

import sys


def main(argv: list[str] | None = None) -> int:
    from pipelines.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
