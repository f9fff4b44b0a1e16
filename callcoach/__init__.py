"""CallCoach: an on-device live call coach for contact-center agents."""

__version__ = "0.1.0"
