"""The app's settings, with one more URL for the web bench: ``/bench/bare/``, a trivial JSON view
that reads the session and the user as every page does, and nothing else (``bench.web``)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.web_urls"
