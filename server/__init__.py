"""Doorstep: the field-survey backend of township social-work stations."""
