from demoapp.greeting import GREETING


def test_greeting():
    # Changed the greeting? Change this line too: that is your first commit.
    assert GREETING == "Hello from the devenv demo!"
