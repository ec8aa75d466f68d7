"""Supervision notices (督办单): the blue, orange, red ladder with receipt, reply, close and interview."""
