"""`callcoach board`: the supervisor's live board, one tile per live call of their teams
(window.py), fed from the team store by callcoach.central.board_feed (feed_bridge.py)."""
