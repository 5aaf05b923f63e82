import Foundation
import Provisioner

/// Podman's own listings of images and containers, one command per scope (root's podman, each user's):
/// the observation is the same for every task of that scope, so the engine reads it once per round trip
/// however many image and container tasks the play has.
enum PodmanProbe {
    /// Prints "missing" when podman is not installed (yet), "nouser" when the scope's user does not exist
    /// (yet: check mode on a fresh host); else the listing as JSON.
    static let listScript = #"""
    what=$1; shift
    command -v podman >/dev/null 2>&1 || { echo missing; exit 0; }
    [ $# -ge 5 ] && ! id -u -- "$5" >/dev/null 2>&1 && { echo nouser; exit 0; }
    case $what in
      images) exec "$@" podman images --format json ;;
      containers) exec "$@" podman ps --all --format json ;;
    esac
    """#

    static func images(_ scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", listScript, "podman-list", "images"] + scope.runner)
    }

    static func containers(_ scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", listScript, "podman-list", "containers"] + scope.runner)
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
