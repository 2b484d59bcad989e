"""Faces: the ways hatui shows an assessment. TUI, check (Nagios), watch (JSON lines), record."""
