from peers.common import run
from peers.transport.app import create_app

run("transport", create_app, 9104)
