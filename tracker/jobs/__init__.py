"""Scheduled work: one run (queue what is due, then deliver both reminders and workflow notifications),
the scheduler that calls it, and their commands. A boundary like a page: it commits.
"""
