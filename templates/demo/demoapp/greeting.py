"""What the home page says first.

Your first change: edit GREETING, update tests/test_greeting.py to match,
reload http://127.0.0.1:5000/ and see it.
"""

GREETING = "Hello from the devenv demo!"
