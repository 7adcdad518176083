"""A clock and a sleep for the waits' unit tests: sleeping advances the clock, so deadlines are proven at once."""


class FakeClock(object):
    def __init__(self, now=1000.0):
        self.now = now
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
