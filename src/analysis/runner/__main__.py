"""``python -m analysis.runner JOB.json RESULT.json``: execute one run (the child process)."""

from analysis.runner.execute import main

if __name__ == "__main__":
    main()
