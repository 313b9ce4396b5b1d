from peers.common import run
from peers.province import batch
from peers.province.app import create_app

run("province", create_app, 9101, prepare=batch.province)
