"""Intake from the field: submissions stored exactly once, photos, their evidence, and form-data exports."""
