"""Entry point of a search from a checkout: ``python tuning/search.py NAME [options]``.

The same as ``rectifier-zoo tune NAME [options]`` (the logic lives in
``rectifier_zoo.tuning`` so pip users have it). The search's record stays in its
project dir; ``--record`` also puts it into ``tuning/results/`` (see ``README.md`` here).

    python tuning/search.py mnist_rect_l1 --tuner bayesian --max-trials 20
    python tuning/search.py mnist_rect_l1 --tuner bayesian --max-trials 20 --record
    python tuning/search.py shapeset_rect_l1 --quick --max-trials 4
"""

import sys

from rectifier_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["tune", *sys.argv[1:]]))
