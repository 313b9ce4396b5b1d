from peers.common import run
from peers.province.app import create_app

run("province", create_app, 9101)
