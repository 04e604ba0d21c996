"""Label quality: agreement, accuracy against a reference, and suspicious-label scores."""
