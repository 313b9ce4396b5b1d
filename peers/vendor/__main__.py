from peers.common import run
from peers.vendor import batch
from peers.vendor.app import create_app

run("vendor", create_app, 9103, prepare=batch.vendor)
