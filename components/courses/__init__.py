"""Courses beyond the hub's own configuration: the ngshare exchange each course hub runs, and its sync."""
