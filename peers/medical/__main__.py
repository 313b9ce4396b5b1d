from peers.common import run
from peers.medical.app import create_app

run("medical", create_app, 9105)
