"""``python -m linesman.simulator``: the same as ``linesman simulate``."""

from linesman.simulator.cli import simulate

if __name__ == "__main__":
    simulate(prog_name="python -m linesman.simulator")
