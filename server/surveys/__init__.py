"""Surveys: the form lifecycle (drafts, immutable published versions, retiring) and the service catalogue."""
