"""Audio in: live devices and files, all delivered as 16 kHz mono blocks per role."""
