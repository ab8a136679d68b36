"""Channels: each knows its provider's wire format and nothing of groceries."""
