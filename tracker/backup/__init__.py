"""Consistent copies of the database while the app runs."""
