"""The volunteer console at /console: sign in, the queue, conversations."""

from starlette.routing import BaseRoute


def console_routes() -> list[BaseRoute]:
    """The console's routes, mounted by the gateway."""
    # TODO: the console pages are being built - until then a handoff is only
    # seen in the database - volunteers cannot yet answer from a browser.
    return []
