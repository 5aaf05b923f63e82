import Provisioner

/// What containers-storage keeps in a graphroot, read from its own files, and the
/// graphroot and driver a storage.conf gives: `storage_conf` refuses edits that
/// would hide a store from podman.
///
/// The probe never runs podman: a first `podman info` creates podman's database in
/// the graphroot and records the driver in it, which would itself break a driver
/// change made later in the same play. Per store directory it lists
/// `<driver>-containers/containers.json` (plus `volatile-containers.json`) and
/// `<driver>-images/images.json`, counting entries by their `"id":` keys (the
/// files are compact JSON arrays, one object per entry, with nested metadata
/// escaped inside strings), and podman's database: `libpod/bolt_state.db` (podman
/// 4), `libpod/db.sql` or `db.sql` (podman 5's SQLite, in the static dir or the
/// graphroot). The driver the database recorded cannot be read without podman.
enum ContainersStorageProbe {
    static let defaultGraphRoot = "/var/lib/containers/storage"
    static let rootlessGraphRoot = "$HOME/.local/share/containers/storage"
    static let systemPath = "/etc/containers/storage.conf"

    /// One driver's store in a graphroot.
    struct Store: Equatable {
        var driver: String
        var containers: Int
        var images: Int
    }

    /// What the probe found at one graphroot.
    enum Directory: Equatable {
        case absent
        case unreadable
        /// `databases`: podman's database files, relative to the graphroot.
        case present(stores: [Store], databases: [String])
    }

    /// Candidate graphroots come from the arguments (the default and the wanted
    /// one) and from the config files themselves, since a probe cannot use another
    /// observation: `graphroot` from the file being edited and the system files in
    /// system scope; for a user, `graphroot` and `rootless_storage_path` from their
    /// file and `rootless_storage_path` from the system files. Only basic strings
    /// without escapes and literal strings are read; a graphroot written otherwise
    /// is not inspected, which planning treats as unknown. In user scope `$UID`,
    /// `$HOME` and `$USER` expand as containers-storage expands them for that user.
    ///
    /// Lines: `NONE P` (nothing there), `UNREADABLE P`, or `DIR P`, then
    /// `STORE P DRIVER CONTAINERS IMAGES` per driver and `DB P FILE` per database.
    static let script = HostProbes.userEntry + #"""
        user=$1 conf=$2 default=$3 wanted=$4; shift 4
        if [ -n "$user" ]; then
          user_entry "$user" || exit 2
          conf=$home/.config/containers/storage.conf
        fi
        value() {
          [ -f "$2" ] && [ -r "$2" ] || return 0
          sed -n -e "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\([^\"\\]*\)\".*/\1/p" \
            -e "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$2"
        }
        candidates() {
          printf '%s\n' "$default" "$wanted"
          if [ -n "$user" ]; then
            value graphroot "$conf"; value rootless_storage_path "$conf"
            for f; do value rootless_storage_path "$f"; done
          else
            value graphroot "$conf"
            for f; do value graphroot "$f"; done
          fi
        }
        subst() {
          t=$r r=
          while :; do
            case $t in
              *"$1"*) r=$r${t%%"$1"*}$2; t=${t#*"$1"} ;;
              *) r=$r$t; return ;;
            esac
          done
        }
        # The entries of one driver's containers.json, volatile-containers.json and images.json ($1 $2 $3)
        # in c, v and i: one grep for the three; fails when one cannot be read.
        tally() {
          c=0 v=0 i=0
          for f; do
            if [ -e "$f" ]; then [ -r "$f" ] || return 1
            elif [ -d "${f%/*}" ] && [ ! -x "${f%/*}" ]; then return 1
            fi
          done
          t=$(grep -o -H -F '"id":' -- "$@" 2>/dev/null | uniq -c)
          while read -r k p; do
            case $p in "$1:"*) c=$k ;; "$2:"*) v=$k ;; "$3:"*) i=$k ;; esac
          done <<EOF
        $t
        EOF
        }
        inspect() {
          r=$1
          if [ -n "$user" ]; then
            subst '$UID' "$uid"; subst '${HOME}' "$home"; subst '$HOME' "$home"; subst '${USER}' "$user"; subst '$USER' "$user"
          fi
          while [ "${#r}" -gt 1 ] && [ "${r%/}" != "$r" ]; do r=${r%/}; done
          case $r in /*) ;; *) return 0 ;; esac
          case $seen in *"
        $r
        "*) return 0 ;; esac
          seen="$seen$r
        "
          if [ ! -e "$r" ]; then
            p=$r; while [ ! -e "$p" ]; do p=${p%/*}; p=${p:-/}; done
            if [ -d "$p" ] && [ ! -x "$p" ]; then echo "UNREADABLE $r"; else echo "NONE $r"; fi
            return 0
          fi
          if [ ! -d "$r" ]; then echo "NONE $r"; return 0; fi
          if [ ! -r "$r" ] || [ ! -x "$r" ] || { [ -d "$r/libpod" ] && [ ! -x "$r/libpod" ]; }; then
            echo "UNREADABLE $r"; return 0
          fi
          out="DIR $r"
          for s in "$r"/*-containers "$r"/*-images; do
            [ -d "$s" ] || continue
            driver=${s##*/}; driver=${driver%-*}
            case $s in *-images) [ -d "$r/$driver-containers" ] && continue ;; esac
            tally "$r/$driver-containers/containers.json" "$r/$driver-containers/volatile-containers.json" \
              "$r/$driver-images/images.json" || { echo "UNREADABLE $r"; return 0; }
            out="$out
        STORE $r $driver $((c + v)) $i"
          done
          for f in libpod/bolt_state.db libpod/db.sql db.sql; do
            if [ -e "$r/$f" ]; then out="$out
        DB $r $f"; fi
          done
          printf '%s\n' "$out"
        }
        seen='
        '
        list=$(candidates "$@")
        while IFS= read -r p; do inspect "$p"; done <<EOF
        $list
        EOF
        """#

    /// System scope: `config` is the file edited (podman reads it instead of the
    /// vendor file when it exists). User scope: the user's file is found by the probe.
    static func argv(user: String?, config: String, wanted: String?) -> [String] {
        guard let user else {
            return ["/bin/sh", "-c", script, "sh", "", config, defaultGraphRoot, wanted ?? "", StorageConfModule.vendorPath]
        }
        return ["/bin/sh", "-c", script, "sh", user, "", rootlessGraphRoot, wanted ?? "",
                systemPath, StorageConfModule.vendorPath]
    }

    /// The probe's answer by graphroot (without trailing slashes); nil for an
    /// answer it cannot have given.
    static func parse(_ stdout: String) -> [String: Directory]? {
        var found: [String: Directory] = [:]
        for line in stdout.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { return nil }
            let tag = line[..<space]
            let rest = String(line[line.index(after: space)...])
            switch tag {
            case "NONE": found[rest] = .absent
            case "UNREADABLE": found[rest] = .unreadable
            case "DIR": found[rest] = .present(stores: [], databases: [])
            case "STORE", "DB":
                // The path comes first and may hold spaces: the fields after it have none.
                var fields = rest.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                let tail = tag == "STORE" ? 3 : 1
                guard fields.count > tail else { return nil }
                let values = Array(fields.suffix(tail))
                fields.removeLast(tail)
                let path = fields.joined(separator: " ")
                guard case .present(var stores, var databases)? = found[path] else { return nil }
                if tag == "DB" {
                    databases.append(values[0])
                } else {
                    guard let containers = Int(values[1]), let images = Int(values[2]) else { return nil }
                    stores.append(Store(driver: values[0], containers: containers, images: images))
                }
                found[path] = .present(stores: stores, databases: databases)
            default:
                return nil
            }
        }
        return found
    }
}

/// The graphroot and driver containers-storage takes from storage.conf.
struct StorageSettings: Equatable {
    /// Expanded; still holding `$` when it names a variable that cannot be expanded here.
    var graphRoot: String
    /// Nil: containers-storage picks one (the driver of a store already there, first).
    var driver: String?

    /// Rootful: the file podman reads (`/etc`, `path`, or the vendor file when those are missing).
    static func system(_ config: TOMLEditor) -> StorageSettings {
        StorageSettings(graphRoot: normalized(string("graphroot", config) ?? ContainersStorageProbe.defaultGraphRoot),
                        driver: string("driver", config).map(canonical))
    }

    /// Rootless, as containers-storage derives it: the user's file when it exists,
    /// falling back to `rootless_storage_path` (theirs, then the system file's) and
    /// `~/.local/share/containers/storage`; without a user file, the system file's
    /// driver when rootless podman can use it. $XDG_DATA_HOME cannot be seen from here.
    static func user(_ config: TOMLEditor?, system: TOMLEditor?, account: AccountDatabase.User) -> StorageSettings {
        let fallback = system.flatMap { string("rootless_storage_path", $0) } ?? ContainersStorageProbe.rootlessGraphRoot
        var settings: StorageSettings
        if let config {
            let graphRoot = string("graphroot", config) ?? string("rootless_storage_path", config) ?? fallback
            settings = StorageSettings(graphRoot: graphRoot, driver: string("driver", config).map(canonical))
        } else {
            let driver = system.flatMap { string("driver", $0) }.map(canonical)
            let usable = driver.map { ["overlay", "btrfs", "vfs"].contains($0) } ?? false
            settings = StorageSettings(graphRoot: fallback, driver: usable ? driver : nil)
        }
        settings.graphRoot = normalized(expanding(settings.graphRoot, for: account))
        return settings
    }

    private static func string(_ key: String, _ config: TOMLEditor) -> String? {
        guard let value = config.value(key, in: ["storage"])?.string, !value.isEmpty else { return nil }
        return value
    }

    /// containers-storage reads overlay2 as overlay.
    private static func canonical(_ driver: String) -> String { driver == "overlay2" ? "overlay" : driver }

    /// As the probe expands: `$UID` first, as containers-storage does, then the
    /// variables podman finds in the user's environment.
    static func expanding(_ path: String, for account: AccountDatabase.User) -> String {
        var p = path.replacingAll("$UID", with: String(account.uid))
        let variables = [("${HOME}", account.home), ("$HOME", account.home), ("${USER}", account.name), ("$USER", account.name)]
        for (name, value) in variables {
            p = p.replacingAll(name, with: value)
        }
        return p
    }

    static func normalized(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
