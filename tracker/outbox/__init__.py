"""Who is to hear what: item events, watches and preferences, the delivery outbox, in-app notifications.

Domain services write here in their own transaction; the sending (reminders, notify) reads it.
"""
