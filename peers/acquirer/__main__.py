from peers.acquirer.app import create_app
from peers.common import run

run("acquirer", create_app, 9105)
