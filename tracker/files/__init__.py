"""Stored files (evidence, exercise photos, import uploads waiting for confirmation).

One small interface, two places: ``instance/`` folders on one machine, or a table of
the database every app host shares. ``TRACKER_FILE_STORE`` chooses (``database`` by
default on PostgreSQL, ``disk`` on SQLite).
"""
