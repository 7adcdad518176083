# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the modules that run PostgreSQL client tools."""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host name or IP address of the PostgreSQL server.
      - Omit it (and O(login_unix_socket)) to use the default local Unix socket.
    type: str
    aliases: [host]
  port:
    description: Port of the PostgreSQL server.
    type: int
    default: 5432
    aliases: [login_port]
  login_user:
    description:
      - Role to connect as. Defaults to the name of the OS user running the client tools.
    type: str
    aliases: [user]
  login_password:
    description:
      - Password of O(login_user).
      - It reaches the client programs through an anonymous 0600 memory file (C(memfd), read as
        C(PGPASSFILE=/dev/fd/N)) that has no name in any file system and vanishes with the last process holding it,
        so even a run killed with SIGKILL leaves no copy behind. It never appears in a command line, in the
        environment of the tools, or in any output.
      - A password with a line break is refused before any connection (libpq's password file holds one line per entry).
    type: str
    aliases: [password]
  login_unix_socket:
    description: Directory of the server's Unix socket, for local connections.
    type: path
  ssl_mode:
    description: libpq C(sslmode) for TCP connections.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description: File with the certificate authorities that sign the server certificate (C(sslrootcert)).
    type: path
    aliases: [ssl_rootcert]
  ssl_cert:
    description: Client certificate file (C(sslcert)).
    type: path
  ssl_key:
    description: Client private key file (C(sslkey)).
    type: path
  connect_timeout:
    description: Seconds to wait for a connection before failing.
    type: int
    default: 10
  os_user:
    description:
      - Run the PostgreSQL client programs as this OS user, for local peer authentication
        (the seed procedures' C(sudo -u postgres pg_dump)).
      - Custom-format archives are still written, owned and read by the user running the task
        (the module streams them), so O(os_user) needs no access to the backup directory.
      - The directory format and parallel restores of zstd archives let the client programs open files
        themselves; then O(os_user) must be able to reach the directory, which is checked up front.
    type: str
notes:
  - Needs the PostgreSQL client programs (C(psql), C(pg_dump), C(pg_restore)) on the managed host.
    C(pg_restore) must be of the same or a newer major version than the C(pg_dump) that wrote an archive.
"""
