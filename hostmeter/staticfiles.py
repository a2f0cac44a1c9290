"""The static files' storage: WhiteNoise's, compressed when collected, with each file's
URL worked out once."""

from whitenoise.storage import CompressedStaticFilesStorage


class StaticFilesStorage(CompressedStaticFilesStorage):
    """WhiteNoise's storage whose url() keeps what it answered: a page names the same few
    files over and over (a service's icon on every row of a list: about 2 ms of a list
    page's CPU, docs/benchmarks.md, Load), and a name's URL does not change while the
    storage lives (changed settings make a new one)."""

    KEPT = 1000  # names; the templates name a few dozen

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name):
        found = self._urls.get(name)
        if found is None:
            found = super().url(name)
            if len(self._urls) < self.KEPT:
                self._urls[name] = found
        return found
