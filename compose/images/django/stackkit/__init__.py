"""Helpers shared by the reference stacks' apps (compose/images/django)."""
