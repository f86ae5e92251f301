"""Allow ``python -m audit_kit``."""

from audit_kit.cli import main

if __name__ == "__main__":
    main()
