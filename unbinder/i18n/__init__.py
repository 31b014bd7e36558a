"""The user's language and the words shown in it."""
