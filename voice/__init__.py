"""Speech for the phone and tablet channels: audio conversion, and the engines."""
