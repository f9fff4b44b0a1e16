import sys

from callcoach.cli import main

sys.exit(main())
