"""Subcommands of `vigil`: each module exposes `register(subparsers)`."""
