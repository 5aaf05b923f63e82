import Provisioner

/// An image reference as podman reads it: `[registry/]path[:tag][@sha256:digest]`.
enum ImageReference {
    /// A reference must say which image it means: a tag or a digest (an untagged name means whatever
    /// `latest` is today).
    static func checkPinned(_ reference: String, argument: String) throws {
        if reference.contains(where: { $0.isWhitespace }) || reference.isEmpty {
            throw ModuleError("'\(reference)' is not an image reference", argument: argument)
        }
        if let at = reference.range(of: "@") {
            let digest = reference[at.upperBound...]
            guard digest.hasPrefix("sha256:"), digest.count == 71, digest.dropFirst(7).allSatisfy(\.isHexDigit) else {
                throw ModuleError("'\(reference)': a digest is @sha256: and 64 hex digits", argument: argument)
            }
            return
        }
        let last = reference.split(separator: "/").last ?? ""
        guard last.contains(":") else {
            throw ModuleError("'\(reference)' is not pinned: name a tag (\(reference):1.2.3) or a digest (@sha256:…)", argument: argument)
        }
    }

    /// The repository part (no tag, no digest), as RepoDigests write it.
    static func repository(_ reference: String) -> String {
        var text = reference.split(separator: "@").first.map(String.init) ?? reference
        if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") { text = String(text[..<colon]) }
        return text
    }
}

/// A container image present (pulled from a pinned reference, or loaded from a `podman save` archive for
/// hosts that cannot reach a registry) or absent, in root's or a user's storage. With `pull: always` the
/// registry is asked for the tag's digest, and a tag that moved is pulled and reported.
struct ImageModule: Module {
    static let name = "image"
    static let summary = "A container image: pulled by pinned tag or digest, loaded from an archive, or removed"
    static let defersUnitRestarts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the image: a pinned tag (registry/name:1.2) or a digest (name@sha256:…)"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present or removed"),
        ArgumentSpec("archive", .path, doc: "a `podman save` archive (on the controller, copied; on the host with remote_src) loaded when the image is missing"),
        ArgumentSpec("remote_src", .bool, default: false, doc: "the archive is on the host already"),
        ArgumentSpec("pull", .string, default: "missing", choices: ["missing", "always", "never"],
                     doc: "missing: pull when absent; always: ask the registry, pull when the tag moved; never: fail when absent"),
        ArgumentSpec("validate_certs", .bool, default: true, aliases: ["tls_verify"], doc: "verify the registry's TLS certificate (false: plain http too)"),
    ] + PodmanScope.specs

    let reference: String
    let present: Bool
    let archive: String?
    let remoteSource: Bool
    let pull: String
    let verify: Bool
    let scope: PodmanScope

    init(_ arguments: ModuleArguments) throws {
        reference = arguments.string("name") ?? ""
        present = arguments.string("state") != "absent"
        archive = arguments.string("archive")
        remoteSource = arguments.bool("remote_src")
        pull = arguments.string("pull") ?? "missing"
        verify = arguments.bool("validate_certs")
        scope = try PodmanScope(arguments)
        if present { try ImageReference.checkPinned(reference, argument: "name") }
        if archive != nil && pull == "always" {
            throw ModuleError("archive and pull: always exclude each other (an archive is loaded only when the image is missing)", argument: "pull")
        }
        if remoteSource && archive == nil { throw ModuleError("remote_src: true needs archive", argument: "remote_src") }
        if let archive, remoteSource, !archive.hasPrefix("/") {
            throw ModuleError("archive must be an absolute path on the host with remote_src: true", argument: "archive")
        }
    }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] {
        guard present, let archive, !remoteSource else { return [] }
        return [(archive, .file)]
    }

    // MARK: Observations

    /// With `pull: always`, the registry's digest for the reference (skopeo, as the scope's user, so its
    /// registry credentials and configuration apply). Arguments: REF TLS RUNNER...
    static let registryScript = #"""
    ref=$1 tls=$2; shift 2
    command -v skopeo >/dev/null || { echo "remote!"; exit 0; }
    if out=$("$@" skopeo inspect --no-tags --tls-verify="$tls" --format '{{.Digest}}' "docker://$ref" 2>&1); then
      echo "remote $out"
    else
      echo "remote! $(printf '%s' "$out" | base64 -w0)"
    fi
    """#

    var registryProbe: [String] {
        ["/bin/sh", "-c", ImageModule.registryScript, "registry", reference, verify ? "true" : "false"] + scope.runner
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [PodmanProbe.images(scope)] + (present && pull == "always" ? [.command(registryProbe)] : [])
    }

    struct State: Equatable {
        var podmanMissing = false
        var userMissing = false
        var image: PodmanProbe.Image?
        /// The registry's digest for the reference (pull: always).
        var remote: String?
        /// Why the registry could not be asked; "" when skopeo is missing.
        var remoteError: String?
    }

    func state(_ observed: Observations) throws -> State {
        var state = State()
        switch try PodmanProbe.parseImages(observed.command(PodmanProbe.images(scope).argv), owner: scope.owner) {
        case .podmanMissing: state.podmanMissing = true
        case .userMissing: state.userMissing = true
        case .entries(let images): state.image = PodmanProbe.find(reference, in: images)
        }
        if let output = observed.command(registryProbe), output.status == 0 {
            let fields = output.stdout.trimmingTrailingNewlines.split(separator: " ", maxSplits: 1).map(String.init)
            if fields.first == "remote" { state.remote = fields.count > 1 ? fields[1] : nil }
            if fields.first == "remote!" {
                state.remoteError = fields.count > 1 ? String(decoding: QuadletProbe.decode(fields[1]), as: UTF8.self).trimmingTrailingNewlines : ""
            }
        }
        return state
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let state = try self.state(observed)
        if state.podmanMissing && !context.checkMode {
            return .failed("podman is not installed on this host (the image module needs it)")
        }
        if state.userMissing && !context.checkMode {
            return .failed("there is no user \(scope.user ?? ""): create it first (user module)")
        }
        var result = ValueDict([("name", .string(reference)), ("state", .string(present ? "present" : "absent"))])
        if let id = state.image?.id { result["id"] = .string(id) }
        guard present else {
            guard let image = state.image else { return Plan(result: result) }
            return Plan(changes: [Change("remove image \(reference)", diff: diff(image.id, nil), actions: [.run(scope.podmanCommand(["rmi", reference]))])],
                        result: result)
        }
        if let image = state.image {
            guard pull == "always" else { return Plan(result: result) }
            if let error = state.remoteError {
                return .failed(error.isEmpty ? "pull: always needs skopeo on the host to ask the registry for \(reference)'s digest (install skopeo)"
                                             : "cannot ask the registry for \(reference): \(error)")
            }
            guard let remote = state.remote else { return .failed("the registry gave no digest for \(reference)") }
            let repository = ImageReference.repository(reference)
            if image.digests.contains(repository + "@" + remote) { return Plan(result: result) }
            // podman lists every digest the image ever had under each of its names (a loaded archive pushed
            // to a registry has both, in no telling order): name them all.
            let known = image.digests.filter { $0.hasPrefix(repository + "@") }.map { String($0.split(separator: "@").last ?? "") }
            let before = known.isEmpty ? "unknown" : known.joined(separator: " or ")
            result["moved"] = true
            result["previous_id"] = .string(image.id)
            result["digest"] = .string(remote)
            return Plan(changes: [Change("pull \(reference): the tag moved (here \(before), the registry has \(remote))",
                                         diff: TextDiff(label: "image \(reference)", before: "digest: \(before)\n", after: "digest: \(remote)\n"),
                                         actions: [.run(pullCommand)])], result: result)
        }
        if let archive {
            return Plan(changes: [Change("load \(reference) from \(archive)", diff: diff(nil, reference), actions: try load(archive, context))],
                        result: result)
        }
        if pull == "never" {
            return .failed("\(reference) is not in \(scope.owner) images and pull: never (give archive, or allow pulling)")
        }
        return Plan(changes: [Change("pull \(reference)", diff: diff(nil, reference), actions: [.run(pullCommand)])], result: result)
    }

    func diff(_ before: String?, _ after: String?) -> TextDiff {
        TextDiff(label: "image \(reference)", before: before.map { "present: \($0)\n" } ?? "absent\n",
                 after: after.map { _ in "present\n" } ?? "absent\n")
    }

    /// `podman pull`, its failure said in podman's last `Error:` line (not its retries and warnings).
    static let pullScript = #"""
    ref=$1; shift
    out=$("$@" 2>&1) && exit 0
    err=$(printf '%s\n' "$out" | grep '^Error: ' | tail -n 1)
    printf 'pulling %s failed: %s\n' "$ref" "${err:-$out}" >&2
    exit 1
    """#

    var pullCommand: Command {
        let words = ["pull", "--quiet"] + (verify ? [] : ["--tls-verify=false"]) + [reference]
        return scope.labeled(["/bin/sh", "-c", ImageModule.pullScript, "pull", reference] + scope.podman(words), "podman " + words.joined(separator: " "))
    }

    /// Loads the archive (copied from the controller first, beside nothing else, and removed after),
    /// then checks that it held the reference. The archive is read through stdin, opened by the
    /// shell before it becomes the image's user: that user need not be able to read its path.
    static let loadScript = #"""
    file=$1 ref=$2 keep=$3; shift 3
    out=$("$@" podman load --quiet <"$file" 2>&1); status=$?
    [ "$keep" = 1 ] || rm -f -- "$file"
    [ "$status" = 0 ] || { printf 'podman load failed: %s\n' "$out" >&2; exit "$status"; }
    "$@" podman image exists -- "$ref" && exit 0
    printf '%s does not hold %s; it holds: %s\n' "$file" "$ref" "$(printf '%s' "$out" | sed 's/^Loaded image: //' | tr '\n' ' ')" >&2
    exit 1
    """#

    func load(_ archive: String, _ context: ModuleContext) throws -> [Action] {
        func loading(_ path: String, keep: Bool) -> Action {
            .run(scope.labeled(["/bin/sh", "-c", ImageModule.loadScript, "load", path, reference, keep ? "1" : "0"] + scope.runner,
                               "podman load --input \(path)"))
        }
        if remoteSource { return [loading(archive, keep: true)] }
        // On the controller itself (an offline bundle's install.sh) the archive is loaded where it is:
        // an image is GBs, never read into memory or copied.
        if let locate = context.locateControllerFileOnHost { return [loading(try locate(archive, .file), keep: true)] }
        let copy = "/var/tmp/.provision-image-\(SHA256.hex(Array((reference + (scope.user ?? "")).utf8)).prefix(16)).tar"
        let bytes = try context.readControllerFile(archive, .file)
        return [.writeFile(path: copy, content: bytes, attributes: FileAttributes(mode: 0o600, owner: scope.user, group: scope.user), backup: false),
                loading(copy, keep: false)]
    }
}
