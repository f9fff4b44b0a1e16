"""Coaching analysis: sentiment, pace, dynamics and the playbook (no Qt)."""
