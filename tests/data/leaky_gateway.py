"""A gateway that fails the way a careless one does: it quotes its connection string on stderr
(and on stdout, where the protocol wants JSON) before giving up. For the masking tests."""

import os
import sys

uri = os.environ.get("MONGO_URI", "")
print(f"connecting to {uri} (db {os.environ.get('MIGRATOR_GATEWAY_DB')})", file=sys.stderr)
print(f"MongoServerError: bad auth for {uri}", file=sys.stderr, flush=True)
sys.exit(1)
