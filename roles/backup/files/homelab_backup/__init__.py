"""homelab-backup: the host side of the backup layer (runner, prune, verify, restore).

Installed by roles/backup as /usr/local/lib/homelab-backup/homelab_backup/, together with a
copy of the collection's module_utils/restic.py as homelab_backup/restic.py. Only the Python
standard library: a host has python3 and nothing else.
"""
