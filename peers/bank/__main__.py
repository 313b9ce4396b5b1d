from peers.bank import batch
from peers.bank.app import create_app
from peers.common import run

run("bank", create_app, 9102, prepare=batch.bank)
