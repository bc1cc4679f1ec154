"""Household files (一户一档): registration, what visits observed merged field by field, and conflicts."""
