"""Rasa SDK custom actions: translate between Rasa's tracker and assistant/."""
