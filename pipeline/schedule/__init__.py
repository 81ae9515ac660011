"""The scheduler daemon: jobs, triggers, the leader lock."""
