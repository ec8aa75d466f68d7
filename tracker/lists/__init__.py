"""The item lists' read model: the one filtered, permission-checked query and its cached pages.

It reads items, supervision notices and the working-day calendar, so it sits above those areas.
"""
