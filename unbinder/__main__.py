"""`python -m unbinder` runs the command-line interface."""

from __future__ import annotations

from unbinder.cli import main

if __name__ == "__main__":
    main()
