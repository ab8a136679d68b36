"""Helping Hands: a patient shopping assistant for older residents."""
