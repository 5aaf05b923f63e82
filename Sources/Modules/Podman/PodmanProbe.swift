import Foundation
import Provisioner

/// Podman's own listings of images and containers, one command per scope (root's podman, each user's):
/// the observation is the same for every task of that scope, so the engine reads it once per round trip
/// however many image and container tasks the play has.
///
/// A listing is a remembered probe (`RememberedProbe`): podman's start-up is most of a converged host's
/// round trip, while what its answer depends on can be seen through `stat`. The stamp is made of
/// - podman's binary and configuration files (they say where the store is), and
/// - the store's files a listing reads: the image store's `images.json`; for containers the container
///   store's files and podman's database (`db.sql`, `bolt_state.db`), which every state change writes,
///   and the conmon processes alive, zombies not counted (a container that died with its monitor is not
///   written down yet);
/// - the boot (runtime state starts over).
/// Where the store is comes from `podman info` when there is no stamp or the configuration moved. A
/// transient store (its database is elsewhere), additional image stores, or a user without a home
/// in the account database get no stamp: podman is asked every time.
enum PodmanProbe {
    /// Prints "missing" when podman is not installed (yet), "nouser" when the scope's user does not exist
    /// (yet: check mode on a fresh host); else the listing as JSON (see the type's comment for `@same`).
    static let listScript = HostProbes.userEntry + #"""
    expected=$1 what=$2; shift 2
    \#(Facts.findPodman)
    [ -n "$pp" ] || { echo missing; exit 0; }
    # The scope's user (after the runner's words) and their home.
    home=${HOME:-/root}
    if [ $# -ge 5 ]; then user_entry "$5" || { echo nouser; exit 0; }; fi
    nl='
    '
    sep="$nl--$nl"
    stats() {
      IFS=$nl; set -f; set -- $1; unset IFS; set +f
      # Missing files print nothing (stderr would not keep its place among stdout's lines).
      [ $# -eq 0 ] || LC_ALL=C stat -c '%n %i %s %.9Y' -- "$@" 2>/dev/null
    }
    live() {
      stats "$1"
      read -r b </proc/sys/kernel/random/boot_id && echo "boot $b"
      [ "$what" = containers ] || return 0
      for d in /proc/[0-9]*; do
        read -r c 2>/dev/null <"$d/stat" || continue
        case $c in *' (conmon) '[!Z]*) echo "conmon ${d#/proc/}" ;; esac
      done
    }
    conf= paths=
    if [ "$expected" != - ]; then
      conf=$pp
      for f in storage.conf containers.conf containers.conf.d; do conf="$conf$nl/etc/containers/$f"; done
      conf="$conf$nl/usr/share/containers/storage.conf$nl/usr/share/containers/containers.conf"
      # A user's own files (root's podman reads its containers.conf too).
      for f in storage.conf containers.conf containers.conf.d; do conf="$conf$nl$home/.config/containers/$f"; done
      [ -n "$home" ] || conf=
    fi
    if [ -n "$conf" ]; then
      case $expected in
        *"$sep"*"$sep"*)
          # One stat for the configuration and the store's files: the memory's two parts, joined.
          paths=${expected%%"$sep"*} rest=${expected#*"$sep"}
          [ "$(live "$conf$nl$paths")" = "${rest%%"$sep"*}$nl${rest#*"$sep"}" ] && { echo @same; exit 0; }
          cstat=$(stats "$conf")
          [ "${rest%%"$sep"*}" = "$cstat" ] || paths= ;;
        *) cstat=$(stats "$conf") ;;
      esac
      if [ -z "$paths" ] && info=$("$@" podman info --format '{{json .Store}}' 2>/dev/null); then
        g=$(printf '%s' "$info" | sed -n 's/.*"graphRoot":"\([^"\\]*\)".*/\1/p')
        d=$(printf '%s' "$info" | sed -n 's/.*"graphDriverName":"\([^"\\]*\)".*/\1/p')
        case $info in *'"transientStore":true'*|*imagestore*) g= ;; esac
        if [ -n "$g" ] && [ -n "$d" ]; then
          case $what in
            images) paths="$g/$d-images/images.json" ;;
            containers) [ -e "$g/db.sql" ] || [ -e "$g/libpod/bolt_state.db" ] \
              && paths="$g/$d-containers/containers.json$nl$g/$d-containers/volatile-containers.json$nl$g/db.sql$nl$g/db.sql-wal$nl$g/libpod/bolt_state.db" ;;
          esac
        fi
      fi
      [ -z "$paths" ] || printf '@stamp %s\n' "$(printf '%s' "$paths$sep$cstat$sep$(live "$paths")" | base64 -w0)"
    fi
    case $what in
      images) exec "$@" podman images --format json ;;
      containers) exec "$@" podman ps --all --format json ;;
    esac
    """#

    static func images(_ scope: PodmanScope) -> Observation {
        .command(RememberedProbe.command(listScript, ["images"] + scope.reader))
    }

    static func containers(_ scope: PodmanScope) -> Observation {
        .command(RememberedProbe.command(listScript, ["containers"] + scope.reader))
    }

    struct Image: Equatable, Sendable {
        var id: String
        var names: [String]
        var digests: [String]
    }

    struct Container: Equatable, Sendable {
        var names: [String]
        var labels: [String: String]
        var state: String
        var imageID: String
    }

    /// What a listing said: podman missing, or its entries; throws ModuleError when podman failed.
    enum Listing<Entry: Sendable>: Sendable {
        case podmanMissing
        case userMissing
        case entries([Entry])

        var entries: [Entry] { if case .entries(let e) = self { return e } else { return [] } }
    }

    static func parseImages(_ output: CommandOutput?, owner: String) throws -> Listing<Image> {
        try parse(output, what: "images", owner: owner) { object in
            guard let id = object["Id"] as? String else { return nil }
            return Image(id: id, names: object["Names"] as? [String] ?? [], digests: object["RepoDigests"] as? [String] ?? [])
        }
    }

    static func parseContainers(_ output: CommandOutput?, owner: String) throws -> Listing<Container> {
        try parse(output, what: "containers", owner: owner) { object in
            Container(names: object["Names"] as? [String] ?? [], labels: object["Labels"] as? [String: String] ?? [:],
                      state: object["State"] as? String ?? "unknown", imageID: object["ImageID"] as? String ?? "")
        }
    }

    static func parse<Entry>(_ output: CommandOutput?, what: String, owner: String,
                             _ entry: ([String: Any]) -> Entry?) throws -> Listing<Entry> {
        guard let output else { throw ModuleError("\(owner) podman \(what) were not read") }
        if output.status == 0, output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "missing" { return .podmanMissing }
        if output.status == 0, output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "nouser" { return .userMissing }
        guard output.status == 0,
              let list = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]] else {
            let detail = output.stderr.split(separator: "\n").filter { !$0.contains("cgroups-v1") }.joined(separator: "\n")
            throw ModuleError("listing \(owner) podman \(what) failed (status \(output.status)): \(detail)")
        }
        return .entries(list.compactMap(entry))
    }

    /// The image a reference names: by digest (`repo@sha256:`), by full name, or — for a short name such
    /// as `nextcloud:31` — the name podman resolved it to (`docker.io/library/nextcloud:31`, `localhost/...`).
    static func find(_ reference: String, in images: [Image]) -> Image? {
        if reference.contains("@") {
            return images.first { $0.digests.contains(reference) || $0.names.contains(reference) }
        }
        if let exact = images.first(where: { $0.names.contains(reference) }) { return exact }
        let first = reference.split(separator: "/").first.map(String.init) ?? ""
        let qualified = reference.contains("/") && (first.contains(".") || first.contains(":") || first == "localhost")
        guard !qualified else { return nil }
        return images.first { $0.names.contains { $0.hasSuffix("/" + reference) } }
    }
}
