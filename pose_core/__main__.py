import sys

from pose_core.cli import run

# The guard matters: a worker process started with "spawn" imports this module again.
if __name__ == "__main__":
    sys.exit(run())
