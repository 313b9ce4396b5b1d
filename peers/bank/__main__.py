from peers.bank.app import create_app
from peers.common import run

run("bank", create_app, 9102)
