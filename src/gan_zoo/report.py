"""`python -m gan_zoo.report <multirun folder>`: a sweep's markdown table, report.csv and plots."""

from gan_zoo.reporting.sweep import *  # noqa: F401,F403
from gan_zoo.reporting.sweep import main

if __name__ == "__main__":
    main()
