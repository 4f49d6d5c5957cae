import sys

from rectifier_zoo.cli import main

sys.exit(main())
