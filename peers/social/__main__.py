from peers.common import run
from peers.social.app import create_app

run("social", create_app, 9106)
