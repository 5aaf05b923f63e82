import Foundation

/// The bundle's `install.sh`: runs the bundled provision on the bundled play, offline.
enum InstallScript {
    static func text(playbook: String, arguments: [String], extraVars: ValueDict) -> String {
        var fixed = arguments.map { $0.hasPrefix("-") ? $0 : "\"$here\"/" + RemoteShell.quoted($0) }
        if !extraVars.isEmpty { fixed += ["-e", RemoteShell.quoted(Value.dict(extraVars).json)] }
        return """
        #!/bin/sh
        # Installs this bundle with no network: the bundled provision verifies every file against the
        # MANIFEST, then applies the bundled play taking images and downloads from the bundle.
        #   ./install.sh             install (as root: sudo ./install.sh)
        #   ./install.sh --dry-run   the plan: what would change and where files go (--check --diff)
        # Other arguments go to 'provision apply' (-v, --limit HOST, -e name=value, --tags T).
        set -eu
        here=$(cd "$(dirname "$0")" && pwd)
        if [ "${1:-}" = "--dry-run" ]; then
            shift
            set -- --check --diff "$@"
        elif [ "$(id -u)" != 0 ]; then
            echo "install.sh: Permission denied: the installation changes the system; run it with sudo (or ./install.sh --dry-run to review it)" >&2
            exit 1
        fi
        exec "$here/bin/provision" apply --bundle "$here" "$here"/\(RemoteShell.quoted(playbook)) \(fixed.joined(separator: " ")) "$@"

        """
    }
}
