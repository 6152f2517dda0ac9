"""``python -m linesman.simulator``: the same as ``linesman simulate``."""

from linesman.cli.simulate import simulate

if __name__ == "__main__":
    simulate(prog_name="python -m linesman.simulator")
